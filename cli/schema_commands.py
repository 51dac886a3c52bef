"""``baolaocai tables`` and ``baolaocai describe TABLE``: what the warehouse holds, for a
reader about to write a query. Read-only; the descriptions come from one place,
:mod:`warehouse.catalog`.

Registered from :mod:`cli.main` by :func:`register`. Quick to start: DuckDB and rich are
imported when a command runs, nothing of Prefect, the crawler or the archive
(tests/cli/test_startup.py keeps it so).
"""

from __future__ import annotations

import difflib
import sys
from typing import Annotated, Any

import typer

from baolaocai.errors import InputError
from cli.support import (
    FORMAT_HELP,
    OUTPUT_FORMATS,
    check_format,
    friendly_errors,
    out,
    print_rows,
)
from cli.warehouse_commands import DbOption, SiteOption, _db_path, _print_json, _site_filter

_LIST_TABLES = """
    SELECT * FROM (
        SELECT table_name AS name, 'table' AS kind, schema_name, column_count,
            NULL AS definition
        FROM duckdb_tables()
        WHERE database_name = current_database() AND NOT internal AND NOT temporary
        UNION ALL
        SELECT view_name, 'view', schema_name, column_count, sql
        FROM duckdb_views()
        WHERE database_name = current_database() AND NOT internal AND NOT temporary
    )
    ORDER BY kind, schema_name <> 'main', schema_name, name
"""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A SQL string literal. Not a ``?`` parameter: DuckDB's binding of one imports
    pandas and pyarrow (some 0.4 s), which these quick commands do without."""
    return "'" + text.replace("'", "''") + "'"


def _qualified(schema: str, name: str) -> str:
    return name if schema == "main" else f"{schema}.{name}"


def _objects(con: Any) -> list[dict[str, Any]]:
    """Every table and view of the warehouse: name (schema-qualified outside ``main``),
    kind, schema, column count and a view's SQL."""
    rows = con.execute(_LIST_TABLES).fetchall()
    return [
        {
            "name": _qualified(schema, name),
            "kind": kind,
            "schema": schema,
            "table": name,
            "columns": columns,
            "definition": definition,
        }
        for name, kind, schema, columns, definition in rows
    ]


def _row_count(con: Any, obj: dict[str, Any], site: str | None) -> int | None:
    """Rows of a table (of ``site`` only when it has a ``site`` column); ``None`` for a
    view, which could take as long as any query to count."""
    if obj["kind"] != "table":
        return None
    source = f"{_quoted(obj['schema'])}.{_quoted(obj['table'])}"
    if site is not None and "site" in _column_names(con, obj):
        row = con.execute(f"SELECT count(*) FROM {source} WHERE site = {_literal(site)}").fetchone()
    else:
        row = con.execute(f"SELECT count(*) FROM {source}").fetchone()
    return int(row[0]) if row else 0


def _column_names(con: Any, obj: dict[str, Any]) -> list[str]:
    return [c["name"] for c in _columns(con, obj)]


def _columns(con: Any, obj: dict[str, Any]) -> list[dict[str, Any]]:
    from warehouse.catalog import column_description

    key = _primary_key(con, obj)
    rows = con.execute(
        "SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns()"
        f" WHERE database_name = current_database() AND {_where(obj)} ORDER BY column_index"
    ).fetchall()
    return [
        {
            "name": name,
            "type": kind,
            "nullable": bool(nullable) and name not in key,
            "default": default,
            "primary_key": name in key,
            "description": column_description(obj["table"], name)
            if obj["schema"] == "main"
            else None,
        }
        for name, kind, nullable, default in rows
    ]


def _where(obj: dict[str, Any]) -> str:
    return f"schema_name = {_literal(obj['schema'])} AND table_name = {_literal(obj['table'])}"


def _primary_key(con: Any, obj: dict[str, Any]) -> list[str]:
    if obj["kind"] != "table":
        return []
    row = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints()"
        f" WHERE database_name = current_database() AND {_where(obj)}"
        " AND constraint_type = 'PRIMARY KEY'"
    ).fetchone()
    return list(row[0]) if row else []


def _description(obj: dict[str, Any]) -> str | None:
    from warehouse.catalog import table_description

    return table_description(obj["table"]) if obj["schema"] == "main" else None


def _open(path: str) -> Any:
    from warehouse.db import connect

    return connect(path, read_only=True)


FormatOption = Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)]


@friendly_errors
def tables_command(
    db: DbOption = None, site: SiteOption = None, format: FormatOption = "auto"
) -> None:
    """Every table and view of the warehouse: its rows (tables; of the --site named, if
    one is) and what it holds, in one line. 'baolaocai describe TABLE' shows its columns."""
    check_format(format, OUTPUT_FORMATS)
    con = _open(_db_path(db, site))
    try:
        only_site = _site_filter(site)
        objects = _objects(con)
        listed = [
            {
                "name": obj["name"],
                "kind": obj["kind"],
                "rows": _row_count(con, obj, only_site),
                "columns": obj["columns"],
                "description": _description(obj),
            }
            for obj in objects
        ]
    finally:
        con.close()
    if format == "json":
        _print_json(listed)
        return
    tables = sum(1 for t in listed if t["kind"] == "table")
    views = len(listed) - tables
    summary = (
        f"({tables} table{'s' if tables != 1 else ''}, {views} view{'s' if views != 1 else ''}"
    )
    summary += f"; rows of {only_site} only)" if only_site else ")"
    print_rows(
        ["name", "kind", "rows", "columns", "description"],
        [
            (
                t["name"],
                t["kind"],
                "" if t["rows"] is None else f"{t['rows']:,}",
                t["columns"],
                t["description"] or "",
            )
            for t in listed
        ],
        format,
        max_rows=0,
        summary=summary,
    )


def _find(objects: list[dict[str, Any]], wanted: str, path: str) -> dict[str, Any]:
    """The table or view named ``wanted`` (as DuckDB matches names: case aside), or one
    error line with the closest names, as DuckDB says it."""
    for exact in (True, False):
        for obj in objects:
            if (obj["name"] == wanted) if exact else (obj["name"].lower() == wanted.lower()):
                return obj
    names = [obj["name"] for obj in objects]
    close = difflib.get_close_matches(wanted.lower(), [n.lower() for n in names], n=1, cutoff=0.6)
    by_lower = {n.lower(): n for n in names}
    hint = "; did you mean " + " or ".join(f'"{by_lower[c]}"' for c in close) + "?" if close else ""
    raise InputError(
        f"no table or view named {wanted!r} in {path}{hint} ('baolaocai tables' lists them)"
    )


@friendly_errors
def describe_command(
    table: Annotated[str, typer.Argument(help="A table or view, e.g. articles.")],
    db: DbOption = None,
    site: SiteOption = None,
    format: FormatOption = "auto",
) -> None:
    """The columns of a table or view: type, whether it may be NULL, the primary key, and
    what each holds."""
    check_format(format, OUTPUT_FORMATS)
    path = _db_path(db, site)
    con = _open(path)
    try:
        obj = _find(_objects(con), table, path)
        columns = _columns(con, obj)
        key = _primary_key(con, obj)
        rows = _row_count(con, obj, _site_filter(site))
    finally:
        con.close()
    about = _description(obj)
    if format == "json":
        _print_json(
            {
                "name": obj["name"],
                "kind": obj["kind"],
                "rows": rows,
                "description": about,
                "primary_key": key,
                "columns": columns,
                **({"definition": obj["definition"]} if obj["kind"] == "view" else {}),
            }
        )
        return
    grid = [
        (
            c["name"],
            c["type"],
            "yes" if c["nullable"] else "no",
            "PK" if c["primary_key"] else "",
            c["description"] or "",
        )
        for c in columns
    ]
    headers = ["column", "type", "null", "key", "description"]
    if format == "csv":
        print_rows(headers, grid, format)
        return
    from baolaocai.text import for_terminal

    counted = "" if rows is None else f", {rows:,} row{'s' if rows != 1 else ''}"
    title = f"{obj['name']} ({obj['kind']}{counted})" + (f": {about}" if about else "")
    key_line = f"primary key: ({', '.join(key)})" if key else "no primary key"
    if format == "markdown":
        sys.stdout.write(f"**{for_terminal(title)}**\n\n")
        print_rows(headers, grid, format, max_rows=0)
        sys.stdout.write(f"\n{for_terminal(key_line)}\n")
        return
    from rich.text import Text

    out.print(Text(for_terminal(title)))
    print_rows(headers, grid, format, max_rows=0, summary=f"({len(grid)} columns; {key_line})")


def register(app: typer.Typer) -> None:
    """Add ``tables`` and ``describe`` to ``app``."""
    app.command("tables")(tables_command)
    app.command("describe")(describe_command)
