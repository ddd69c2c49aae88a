"""Settings helpers fail loudly on bad values; production refuses unsafe defaults."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from linge.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_str,
)


def test_bool_words() -> None:
    assert env_bool("X", False, {"X": "yes"}) is True
    assert env_bool("X", True, {"X": "off"}) is False
    assert env_bool("X", True, {}) is True
    with pytest.raises(ImproperlyConfigured, match="X must be a boolean"):
        env_bool("X", False, {"X": "maybe"})


def test_numbers() -> None:
    assert env_int("N", 3, {"N": " 12 "}) == 12
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("N", 3, {"N": "twelve"})
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("N", 3, {"N": "0"}, minimum=1)
    assert env_float("F", 1.0, {"F": "2.5"}) == 2.5
    with pytest.raises(ImproperlyConfigured):
        env_float("F", 1.0, {"F": "-1"})


def test_strings_lists_choices() -> None:
    assert env_str("S", "d", {}) == "d"
    assert env_list("L", ["a"], {"L": "x, y,,z"}) == ["x", "y", "z"]
    assert env_choice("C", "zh-hans", {"zh-hans", "en"}, {"C": "en"}) == "en"
    with pytest.raises(ImproperlyConfigured, match="one of"):
        env_choice("C", "zh-hans", {"zh-hans", "en"}, {"C": "fr"})


def test_networks() -> None:
    nets = env_networks("P", [], {"P": "10.0.0.0/8, 127.0.0.1,::1"})
    assert [str(n) for n in nets] == ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]
    assert env_networks("P", [], {}) == []
    with pytest.raises(ImproperlyConfigured, match="P must list IP addresses"):
        env_networks("P", [], {"P": "10.0.0.0/8,proxy.local"})


def run_settings(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter, as a server start would."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LINGE_")}
    environ.update({"LINGE_VAR_DIR": str(tmp_path), **env})
    code = "import linge.settings as s; print(s.DATABASES['default']['ENGINE'], s.DEBUG)"
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                          text=True)


def test_defaults_are_sqlite_in_var(tmp_path) -> None:
    result = run_settings({}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["linge.sqlite", "False"]
    assert (tmp_path / "secret_key").exists()


def test_production_requires_a_secret_key(tmp_path) -> None:
    result = run_settings({"LINGE_PRODUCTION": "true"}, tmp_path)
    assert result.returncode != 0
    assert "LINGE_SECRET_KEY is required" in result.stderr


def test_production_forbids_debug(tmp_path) -> None:
    result = run_settings(
        {"LINGE_PRODUCTION": "1", "LINGE_DEBUG": "1", "LINGE_SECRET_KEY": "x" * 50}, tmp_path
    )
    assert "LINGE_DEBUG must be off" in result.stderr


def test_bad_database_url(tmp_path) -> None:
    result = run_settings({"LINGE_DATABASE_URL": "mysql://root@localhost/x"}, tmp_path)
    assert result.returncode != 0 and "unsupported database engine" in result.stderr


def test_bad_number_names_the_variable(tmp_path) -> None:
    result = run_settings({"LINGE_AUTO_CLOSE_DAYS": "seven"}, tmp_path)
    assert "LINGE_AUTO_CLOSE_DAYS must be a whole number" in result.stderr
