"""The house rules, checked on the source: imports go one way (a room never imports a
sibling room), and no module keeps mutable state at module level (a run's resources
belong to the run object)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "baolaocai",
    "scrapers",
    "transforms",
    "warehouse",
    "pipeline",
    "flows",
    "cli",
    "web",
    "sitecopy",
)
ALLOWED: dict[str, frozenset[str]] = {
    # the floor: models, settings, the site model, identity
    "baolaocai": frozenset({"baolaocai"}),
    # the rooms: the floor only, never each other
    "scrapers": frozenset({"baolaocai", "scrapers"}),
    "transforms": frozenset({"baolaocai", "transforms"}),
    "warehouse": frozenset({"baolaocai", "warehouse"}),
    # a run: the rooms and the floor, no Prefect
    "pipeline": frozenset({"baolaocai", "scrapers", "transforms", "warehouse", "pipeline"}),
    "flows": frozenset({"baolaocai", "scrapers", "transforms", "warehouse", "pipeline", "flows"}),
    "cli": frozenset(PACKAGES),
    # the browser view: a reader over the warehouse (no crawl, no Prefect, no CLI)
    "web": frozenset({"baolaocai", "warehouse", "web"}),
    # the bundled copies of the sites: test furniture, over the floor only
    "sitecopy": frozenset({"baolaocai", "sitecopy"}),
}


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "site" in path.relative_to(ROOT / package).parts[:1] and package == "sitecopy":
                continue
            yield package, path


def imported_packages(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module.split(".")[0]


def test_imports_go_one_way() -> None:
    wrong = []
    for package, path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, name in imported_packages(tree):
            if name in PACKAGES and name not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_pipeline_imports_no_prefect() -> None:
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        names = {n for _, n in imported_packages(ast.parse(path.read_text(encoding="utf-8")))}
        assert "prefect" not in names, path


MUTABLE_CALLS = frozenset(
    {
        "dict",
        "list",
        "set",
        "defaultdict",
        "OrderedDict",
        "Counter",
        "deque",
        "WeakValueDictionary",
        "WeakKeyDictionary",
        "WeakSet",
        "Event",
        "Lock",
        "RLock",
        "Condition",
        "Semaphore",
    }
)


def _mutable(value: ast.expr | None) -> bool:
    if isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in MUTABLE_CALLS
    return False


PER_PROCESS: frozenset[tuple[str, str]] = frozenset(
    {
        # Signals are delivered to a process: the SIGTERM flag is the process's, not a run's.
        ("cli/support.py", "_terminated"),
        # The terminal display observing this process's run (set by `observing`, per process).
        ("baolaocai/progress.py", "global _current"),
    }
)
"""The only module-level states allowed: each belongs to the process, not to a run."""


def module_state(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Module-level names bound to mutable containers or synchronisation objects (state
    that outlives a call), and every ``global`` statement (a function rebinding one)."""
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and _mutable(value) and not target.id.isupper():
                yield node.lineno, target.id
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            yield node.lineno, "global " + ", ".join(node.names)


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "sitecopy"])
def test_no_module_holds_mutable_state(package: str) -> None:
    found = []
    for pkg, path in modules():
        if pkg != package:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT).as_posix()
        found += [
            f"{where}:{line} {name}"
            for line, name in module_state(tree)
            if (where, name) not in PER_PROCESS
        ]
    assert not found, "module-level mutable state:\n" + "\n".join(found)


def test_upper_case_containers_are_never_mutated() -> None:
    """A module-level container named as a constant is one: nothing assigns into it or
    calls a mutating method on it."""
    mutators = {
        "append",
        "add",
        "update",
        "pop",
        "clear",
        "setdefault",
        "extend",
        "remove",
        "discard",
        "insert",
        "popitem",
    }
    found = []
    for _package, path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            t.id
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(t, ast.Name) and t.id.isupper() and _mutable(node.value)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in mutators
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in constants
            ) or (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Store | ast.Del)
                and isinstance(node.value, ast.Name)
                and node.value.id in constants
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "module-level constants mutated:\n" + "\n".join(found)
