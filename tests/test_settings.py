"""Settings: declared once, refused by name when out of range, documented from their
declarations."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from baolaocai.errors import ConfigError
from baolaocai.settings import Settings, env_var, load_settings, settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_table_is_the_declared_settings() -> None:
    assert settings_table() in README.read_text(encoding="utf-8"), (
        "README's configuration table differs from baolaocai/settings.py: paste"
        " settings_table() into it"
    )


def test_every_setting_has_help_and_an_env_var() -> None:
    for f in dataclasses.fields(Settings):
        assert f.metadata.get("help"), f.name
        assert env_var(f.name).startswith("BAOLAOCAI_")


@pytest.mark.parametrize(
    ("var", "raw"),
    [
        ("BAOLAOCAI_RATE", "inf"),
        ("BAOLAOCAI_RATE", "nan"),
        ("BAOLAOCAI_RATE", "-1"),
        ("BAOLAOCAI_RECHECK_DAYS", "inf"),
        ("BAOLAOCAI_REVISIT_SHARE", "nan"),
        ("BAOLAOCAI_CONCURRENCY", "0"),
        ("BAOLAOCAI_CONCURRENCY", "2.5"),
        ("BAOLAOCAI_USER_AGENT", "ü"),
        ("BAOLAOCAI_CONTACT", "a\nb"),
        ("BAOLAOCAI_RUN_DEADLINE", "inf"),
        ("BAOLAOCAI_SITE", "no-such-paper"),
    ],
)
def test_a_bad_environment_value_is_refused_by_name(var: str, raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({var: raw})
    message = caught.value.message
    assert "\n" not in message
    name = var.removeprefix("BAOLAOCAI_").lower()
    assert var in message or name in message


def test_flags_and_env_and_defaults_in_order() -> None:
    env = {"BAOLAOCAI_RATE": "2", "BAOLAOCAI_BATCH_SIZE": "7"}
    settings = load_settings(env).override(rate=3.0, batch_size=None)
    assert (settings.rate, settings.batch_size, settings.retries) == (3.0, 7, 3)


NUMERIC = [f for f in dataclasses.fields(Settings) if f.type in ("int", "float")]
OUT_OF_RANGE = ("inf", "-inf", "nan", "-1", "1e400", "99999999999999999999999")


@pytest.mark.parametrize("field", NUMERIC, ids=lambda f: f.name)
@pytest.mark.parametrize("raw", OUT_OF_RANGE)
def test_every_numeric_setting_refuses_out_of_range_values_in_one_line(
    field: dataclasses.Field[object], raw: str
) -> None:
    """Generated from the declarations: a setting added later is covered too. Nothing may
    reach a BIGINT, an int32 or a timedelta downstream out of range."""
    var = env_var(field.name)
    with pytest.raises(ConfigError) as caught:
        load_settings({var: raw})
    message = caught.value.message
    assert "\n" not in message and var in message, message


@pytest.mark.parametrize("field", NUMERIC, ids=lambda f: f.name)
@pytest.mark.parametrize("value", [float("inf"), float("nan"), -1, 10**23, 10**400, 1e300])
def test_every_numeric_setting_refuses_out_of_range_flags(
    field: dataclasses.Field[object], value: float
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({}).override(**{field.name: value})
    assert caught.value.message.startswith(f"{field.name} must be "), caught.value.message


@pytest.mark.parametrize("field", NUMERIC, ids=lambda f: f.name)
def test_every_numeric_setting_has_a_bounded_check_that_its_default_meets(
    field: dataclasses.Field[object],
) -> None:
    check = field.metadata["check"]
    assert check is not None and field.metadata["rule"], field.name
    assert check(getattr(Settings(), field.name))
    assert not check(2**31), field.name  # nothing reaches an int32 out of range
