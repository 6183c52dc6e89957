"""EnvConfig: strict parsing of every VIRNUCPRO_* variable, errors that name it, the cache and its reset."""

from __future__ import annotations

import dataclasses

import pytest
from virnucpro.config import VARIABLES, EnvConfig, get_env_config, parse_bool, parse_choice, reset_env_config
from virnucpro.errors import ConfigError, InputError


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", " Yes "])
def test_true_spellings(raw):
    assert parse_bool("VIRNUCPRO_X", raw) is True


@pytest.mark.parametrize("raw", [None, "", "0", "false", "False", "no", " NO "])
def test_false_spellings(raw):
    assert parse_bool("VIRNUCPRO_X", raw) is False


@pytest.mark.parametrize("raw", ["2", "on", "off", "y", "t", "enabled", "truee"])
def test_anything_else_is_an_error_naming_the_variable(raw):
    with pytest.raises(ConfigError, match=rf"VIRNUCPRO_DISABLE_PACKING={raw!r} is not a boolean"):
        EnvConfig.from_environ({"VIRNUCPRO_DISABLE_PACKING": raw})


def test_config_error_is_an_input_error_with_exit_code_2():
    assert issubclass(ConfigError, InputError)
    assert ConfigError.exit_code == 2


def test_false_means_false_not_truthy_string():
    config = EnvConfig.from_environ({"VIRNUCPRO_DISABLE_PACKING": "false", "VIRNUCPRO_DISABLE_FP16": "true"})
    assert (config.disable_packing, config.disable_fp16) == (False, True)
    described = config.describe()
    assert (described["VIRNUCPRO_DISABLE_PACKING"], described["VIRNUCPRO_DISABLE_FP16"]) == ("0", "1")


BOOL_FIELDS = [f.name for f in dataclasses.fields(EnvConfig) if f.type in (bool, "bool")]


def test_every_setting_is_described_under_its_variable_name():
    described = EnvConfig().describe()
    assert sorted(VARIABLES) == sorted(f.name for f in dataclasses.fields(EnvConfig))
    assert sorted(described) == sorted(VARIABLES.values())
    # the package's own variables carry its prefix; only standard ones keep their names
    assert {v for v in VARIABLES.values() if not v.startswith("VIRNUCPRO_")} == {"SOURCE_DATE_EPOCH"}
    assert all(v == f"VIRNUCPRO_{f.upper()}" for f, v in VARIABLES.items() if v.startswith("VIRNUCPRO_"))


@pytest.mark.parametrize(("raw", "expected"), [(None, None), ("", None), ("0", 0), (" 1700000000 ", 1700000000)])
def test_source_date_epoch_is_whole_seconds(raw, expected):
    environ = {} if raw is None else {"SOURCE_DATE_EPOCH": raw}
    assert EnvConfig.from_environ(environ).source_date_epoch == expected


@pytest.mark.parametrize("raw", ["-1", "1.5", "yesterday"])
def test_a_bad_source_date_epoch_is_named(raw):
    with pytest.raises(ConfigError, match=rf"SOURCE_DATE_EPOCH={raw!r} must be a Unix time in whole seconds"):
        EnvConfig.from_environ({"SOURCE_DATE_EPOCH": raw})


@pytest.mark.parametrize("field", BOOL_FIELDS)
def test_every_boolean_variable_is_strict(field):
    variable = f"VIRNUCPRO_{field.upper()}"
    assert getattr(EnvConfig.from_environ({variable: "yes"}), field) is True
    with pytest.raises(ConfigError, match=variable):
        EnvConfig.from_environ({variable: "maybe"})


def test_unset_variables_take_defaults_and_unrelated_ones_are_ignored():
    assert EnvConfig.from_environ({"PATH": "/bin", "VIRNUCPRO": "1"}) == EnvConfig()


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        EnvConfig().disable_fp16 = True  # type: ignore[misc]


def test_parse_choice():
    assert parse_choice("VIRNUCPRO_Y", None, ("a", "b"), "a") == "a"
    assert parse_choice("VIRNUCPRO_Y", " B ", ("a", "b"), "a") == "b"
    with pytest.raises(ConfigError, match=r"VIRNUCPRO_Y='c' must be one of: a, b"):
        parse_choice("VIRNUCPRO_Y", "c", ("a", "b"), "a")


def test_get_env_config_is_cached_until_reset(monkeypatch):
    monkeypatch.setenv("VIRNUCPRO_DISABLE_FP16", "1")
    reset_env_config()
    try:
        first = get_env_config()
        assert first.disable_fp16 is True
        monkeypatch.setenv("VIRNUCPRO_DISABLE_FP16", "0")
        assert get_env_config() is first  # parsed once per process
        reset_env_config()
        assert get_env_config().disable_fp16 is False
    finally:
        monkeypatch.delenv("VIRNUCPRO_DISABLE_FP16")
        reset_env_config()


def test_get_env_config_raises_for_a_bad_value(monkeypatch):
    monkeypatch.setenv("VIRNUCPRO_DISABLE_PACKING", "maybe")
    reset_env_config()
    try:
        with pytest.raises(ConfigError, match="VIRNUCPRO_DISABLE_PACKING='maybe'"):
            get_env_config()
    finally:
        monkeypatch.delenv("VIRNUCPRO_DISABLE_PACKING")
        reset_env_config()
