"""Production mode (LINGE_PRODUCTION) is safe by construction: `linge check --deploy`
finds nothing, and the server refuses to start on a weak secret, a wildcard host or
insecure cookies, saying which. Each case imports the settings in a fresh interpreter
with the environment set, as a server start would. Every page answers with a
Content-Security-Policy that runs no inline script or style."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import City
from tests.routes import all_routes

ROOT = Path(__file__).resolve().parents[1]
LINGE = ROOT / ".venv" / "bin" / "linge"
STRONG = "q8Zr-3vLx_P0aWm7TnYc2JdKe9HfUgRbSiVo4Nl1Xt6Ew5Ay8Bz_Cs-Dp7Fq0Gh"


def production(tmp: Path, **env: str) -> dict[str, str]:
    # A server's environment: none of ours, and not the browser tests' async switch.
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith("LINGE_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environ.update({"LINGE_VAR_DIR": str(tmp), "LINGE_PRODUCTION": "1",
                    "LINGE_SECRET_KEY": STRONG, "LINGE_ALLOWED_HOSTS": "linge.example.cn",
                    "DJANGO_SETTINGS_MODULE": "linge.settings", **env})
    return environ


@pytest.fixture
def folder() -> Path:
    from django.conf import settings

    path = Path(settings.VAR_DIR) / "production-test"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start(environ: dict[str, str]) -> subprocess.CompletedProcess:
    code = "import linge.settings as s; print('started', s.SECURE_HSTS_SECONDS)"
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                          text=True, timeout=120)


def test_check_deploy_finds_nothing(folder: Path) -> None:
    result = subprocess.run([str(LINGE), "check", "--deploy"], env=production(folder),
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr and "?:" not in result.stderr


def test_a_sound_configuration_starts_with_https_settings(folder: Path) -> None:
    code = ("import linge.settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
            "s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)")
    result = subprocess.run([sys.executable, "-c", code], env=production(folder),
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == (
        "True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https') True True"), result.stderr


@pytest.mark.parametrize(("env", "said"), [
    ({"LINGE_SECRET_KEY": "a" * 50}, "LINGE_SECRET_KEY is too predictable"),
    ({"LINGE_SECRET_KEY": "ab" * 40}, "LINGE_SECRET_KEY is too predictable"),
    ({"LINGE_SECRET_KEY": "django-insecure-" + STRONG}, "LINGE_SECRET_KEY is too predictable"),
    ({"LINGE_SECRET_KEY": STRONG[:45]}, "LINGE_SECRET_KEY must be at least 50 characters"),
    ({"LINGE_ALLOWED_HOSTS": "*"}, "LINGE_ALLOWED_HOSTS must name the site's hosts"),
    ({"LINGE_ALLOWED_HOSTS": "linge.example.cn,*"}, "LINGE_ALLOWED_HOSTS must name"),
    ({"LINGE_SECURE_COOKIES": "false"}, "LINGE_SECURE_COOKIES must stay on in production"),
])
def test_an_unsafe_configuration_refuses_to_start(folder: Path, env, said) -> None:
    result = start(production(folder, **env))
    assert result.returncode != 0 and "started" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr and said in result.stderr


def test_development_is_not_held_to_it(folder: Path) -> None:
    environ = production(folder, LINGE_PRODUCTION="0", LINGE_ALLOWED_HOSTS="*",
                         LINGE_SECRET_KEY="a" * 50)
    code = "import linge.settings as s; print('started')"
    result = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "started", result.stderr


POLICY = {"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
          "frame-ancestors 'none'"}
INLINE = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>"
                    r"|<style\b|\sstyle=\"|\son[a-z]+=\"", re.I)


@pytest.mark.parametrize("who", ["anonymous", "leader", "full_time", "resident"])
def test_every_page_has_a_policy_and_no_inline_script_or_style(city: City, who: str) -> None:
    client = Client()
    if who != "anonymous":
        client.force_login(city[who])
    seen = 0
    for route in all_routes():
        if "<" in route or route.endswith(("logout", "logout/", ".csv", ".xlsx")):
            continue
        response = client.get(route)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        seen += 1
        directives = {d.strip() for d in response["Content-Security-Policy"].split(";")}
        assert POLICY <= directives, route
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        body = response.content.decode()
        found = INLINE.search(body)
        assert found is None, (route, body[max(0, found.start() - 80):found.end() + 80])
    assert seen >= 3
