"""EnvConfig: strict parsing of every VIRNUCPRO_* variable, errors that name it, the cache and its reset."""

from __future__ import annotations

import dataclasses

import pytest
from virnucpro.config import EnvConfig, get_env_config, parse_bool, parse_choice, reset_env_config
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
    assert sorted(described) == sorted(f"VIRNUCPRO_{f.name.upper()}" for f in dataclasses.fields(EnvConfig))


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
