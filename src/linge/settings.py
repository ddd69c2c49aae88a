"""Django settings for Linge, read only from environment variables (see README)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
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

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("LINGE_VAR_DIR", "var")).resolve()

PRODUCTION = env_bool("LINGE_PRODUCTION", False)
DEBUG = env_bool("LINGE_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("LINGE_DEBUG must be off when LINGE_PRODUCTION is on")


def weak_secret(key: str) -> str:
    """Why a production secret key is too weak to sign sessions and derive keys, or ""."""
    if len(key) < 50:
        return "LINGE_SECRET_KEY must be at least 50 characters"
    if len(set(key)) < 16 or key.startswith("django-insecure-"):
        return ("LINGE_SECRET_KEY is too predictable (fewer than 16 different characters): "
                "generate one, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'")
    return ""


def _secret_key() -> str:
    key = env_str("LINGE_SECRET_KEY", "")
    if key:
        if PRODUCTION and weak_secret(key):
            raise ImproperlyConfigured(weak_secret(key))
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("LINGE_SECRET_KEY is required when LINGE_PRODUCTION is on")
    # Demo and development: generate once and keep it, so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("LINGE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and any("*" in host for host in ALLOWED_HOSTS):
    raise ImproperlyConfigured(
        "LINGE_ALLOWED_HOSTS must name the site's hosts in production, not a wildcard (*)")
CSRF_TRUSTED_ORIGINS = env_list("LINGE_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "linge.areas",
    "linge.people",
    "linge.clients",
    "linge.cases",
    "linge.notify",
    "linge.demo",
    "linge.insights",
    "linge.visits",
    "linge.resident",
    "linge.workbench",
    "linge.cockpit",
    "linge.api",
    "linge.open311",
]

MIDDLEWARE = [
    "linge.guard.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linge.workbench.middleware.SiteLanguageForStaffMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "linge.people.sessions.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "linge.urls"
WSGI_APPLICATION = "linge.wsgi.application"
AUTH_USER_MODEL = "people.User"
# Every username-and-password login goes through the lock (people.auth); ModelBackend
# stays listed for the sessions it already signed and for residents' code logins.
AUTHENTICATION_BACKENDS = [
    "linge.people.auth.LockingBackend",
    "django.contrib.auth.backends.ModelBackend",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "linge.notify.context.unread_messages",
            ],
            # {% url %} remembering the paths of routes without arguments (linge/urltag.py)
            "builtins": ["linge.urltag"],
        },
    },
]
# The widgets our forms show, written in Python with Django's markup (linge/formrender.py).
FORM_RENDERER = "linge.formrender.Renderer"


# PostgreSQL: the queries compiled once (linge/prepared.py) are also prepared on the
# server, once per connection, so it plans them once. Off behind a pooler that hands
# one client's statements to several server connections (PgBouncer's transaction mode).
LINGE_DB_PREPARED_STATEMENTS = env_bool("LINGE_DB_PREPARED_STATEMENTS", True)


def _database() -> dict:
    url = env_str("LINGE_DATABASE_URL", f"sqlite:///{VAR_DIR / 'linge.sqlite3'}")
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("LINGE_DB_CONN_MAX_AGE", 60))
    except Exception as error:  # dj_database_url raises several kinds
        raise ImproperlyConfigured(f"LINGE_DATABASE_URL is not a database URL: {error}") from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers run while one writer writes; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue instead of failing mid-transaction.
        # Connections persist like PostgreSQL's (LINGE_DB_CONN_MAX_AGE): opening one
        # per request ran these PRAGMAs every time and, closing the last connection
        # to the file, checkpointed the WAL inside the request. Kept open, the
        # PRAGMAs run once per connection and SQLite checkpoints by itself every
        # 1000 pages (wal_autocheckpoint), in whichever commit crosses the mark.
        # Writers queue on a file lock rather than SQLite's sleeping retries (linge.sqlite).
        config["ENGINE"] = "linge.sqlite"
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # Tests use a file too (not shared-cache memory), so they see WAL's real locking;
        # one per process, so two test runs never share it.
        test_name = Path(config["NAME"]).with_suffix(f".test-{os.getpid()}.sqlite3")
        config["TEST"] = {"NAME": str(test_name)}
    elif engine == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
        if LINGE_DB_PREPARED_STATEMENTS:
            # psycopg prepares a statement asked to (linge/prepared.py asks) only where
            # the connection has a threshold; Django's cursors bind in the client and
            # never prepare. Past reach, so nothing is prepared by count alone.
            config.setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
    else:
        raise ImproperlyConfigured(f"LINGE_DATABASE_URL: unsupported database engine {engine}")
    return config


DATABASES = {"default": _database()}
# One local-memory cache per process, for what pages repeat (resident/cached.py says
# how a change reaches the other processes).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Database sessions, written in one statement (see linge/sessions.py).
SESSION_ENGINE = "linge.sessions"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env_choice("LINGE_LANGUAGE", "zh-hans", {"zh-hans", "en"})
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("LINGE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on a missing folder
STATICFILES_DIRS = [PACKAGE_DIR / "static"] if (PACKAGE_DIR / "static").is_dir() else []
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("LINGE_MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

if PRODUCTION:
    if not env_bool("LINGE_SECURE_COOKIES", True):
        raise ImproperlyConfigured(
            "LINGE_SECURE_COOKIES must stay on in production (sessions over plain HTTP)")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    # HTTPS only: redirect plain HTTP (but the health check), and tell browsers for a year.
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("LINGE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Linge listens on loopback behind its reverse proxy, which terminates TLS and says
    # so in this header (it must set it itself, overwriting any the client sent).
    _https_header = env_str("LINGE_PROXY_HTTPS_HEADER", "X-Forwarded-Proto")
    if _https_header:
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + _https_header.upper().replace("-", "_"), "https")
else:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("LINGE_SECURE_COOKIES", False)
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles and everything else from the
# site itself; no inline script or style attribute runs. Map tiles come from
# LINGE_MAP_TILES' host when one is set.
_tile_origin = ""
if env_str("LINGE_MAP_TILES", ""):
    from urllib.parse import urlsplit

    _parts = urlsplit(env_str("LINGE_MAP_TILES", ""))
    _tile_origin = f"{_parts.scheme}://{_parts.netloc}" if _parts.netloc else ""
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *([_tile_origin] if _tile_origin else [])],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Domain settings.
# Working hours for 工作时/工作日 deadlines: comma-separated HH:MM-HH:MM periods.
LINGE_WORK_HOURS = env_str("LINGE_WORK_HOURS", "08:30-12:00,13:30-17:30")
# How far (metres) locate() may fall back to the nearest grid outside every polygon.
LINGE_LOCATE_FALLBACK_M = env_float("LINGE_LOCATE_FALLBACK_M", 300.0)
# A resolved case that the reporter does not rate closes as unrated after this many days.
LINGE_AUTO_CLOSE_DAYS = env_int("LINGE_AUTO_CLOSE_DAYS", 7, minimum=1)
# linge worker: seconds a worker holds claimed outbox rows before another copy may take them.
LINGE_WORKER_LEASE = env_int("LINGE_WORKER_LEASE", 60, minimum=1)
# The login lock (people.lockout) of the workbench, the admin and API tokens: failures
# per username and address, per username from any address, per address for any username.
LINGE_LOGIN_MAX_FAILURES = env_int("LINGE_LOGIN_MAX_FAILURES", 5, minimum=1)
LINGE_LOGIN_ACCOUNT_MAX_FAILURES = env_int("LINGE_LOGIN_ACCOUNT_MAX_FAILURES", 20, minimum=1)
LINGE_LOGIN_ADDRESS_MAX_FAILURES = env_int("LINGE_LOGIN_ADDRESS_MAX_FAILURES", 20, minimum=1)
LINGE_LOGIN_LOCK_MINUTES = env_int("LINGE_LOGIN_LOCK_MINUTES", 15, minimum=1)
# Staff and admin sessions end this long after their last request; residents keep
# Django's two weeks (SESSION_COOKIE_AGE).
LINGE_STAFF_SESSION_HOURS = env_int("LINGE_STAFF_SESSION_HOURS", 10, minimum=1)
# Reverse proxies whose X-Forwarded-For is believed when telling one client's address
# from another (login lock, verification-code limits). Empty: REMOTE_ADDR only.
LINGE_TRUSTED_PROXIES = env_networks("LINGE_TRUSTED_PROXIES", [])

# SMS: "console" logs messages (demo, development); "http" posts them to a gateway.
LINGE_SMS_BACKEND = env_choice("LINGE_SMS_BACKEND", "console", {"console", "http"})
LINGE_SMS_URL = env_str("LINGE_SMS_URL", "")
LINGE_SMS_TOKEN = env_str("LINGE_SMS_TOKEN", "")
if LINGE_SMS_BACKEND == "http" and not LINGE_SMS_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("LINGE_SMS_URL must be an http(s) URL when LINGE_SMS_BACKEND=http")

# Resident pages: the public address printed in QR posters, and limits on photos.
LINGE_PUBLIC_URL = env_str("LINGE_PUBLIC_URL", "http://127.0.0.1:8000")
LINGE_PHOTO_MAX_BYTES = env_int("LINGE_PHOTO_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
LINGE_PHOTO_MAX_PIXELS = env_int("LINGE_PHOTO_MAX_PIXELS", 40_000_000, minimum=1)
# Decoding work (cases.photos.Budget): pixels of all photos of one request, seconds of
# decoding per request, photos decoded at once per process (others wait their turn).
LINGE_PHOTO_REQUEST_PIXELS = env_int("LINGE_PHOTO_REQUEST_PIXELS", 120_000_000, minimum=1)
LINGE_PHOTO_DECODE_SECONDS = env_float("LINGE_PHOTO_DECODE_SECONDS", 20.0, minimum=0.1)
LINGE_PHOTO_DECODERS = env_int("LINGE_PHOTO_DECODERS", 1, minimum=1)
# The largest request body (linge.guard): nine photos and the form around them. A longer
# Content-Length is refused before a byte is read or spooled to a temporary file.
LINGE_REQUEST_MAX_BYTES = env_int(
    "LINGE_REQUEST_MAX_BYTES", LINGE_PHOTO_MAX_BYTES * 9 + 1024 * 1024, minimum=1024)

# The audit chain's head is sealed with this key (cases.chain.head_seal); by default one
# derived from the secret key. Keep it out of the database and its backups.
LINGE_AUDIT_KEY = env_str("LINGE_AUDIT_KEY", "")

# Leaders' screens (insights, cockpit): the ranking's weights and fairness, the map.
LINGE_RANK_MIN_CASES = env_int("LINGE_RANK_MIN_CASES", 10, minimum=1)
LINGE_RANK_PRIOR = env_int("LINGE_RANK_PRIOR", 20, minimum=0)
LINGE_RANK_WEIGHTS: dict[str, float] = {}
for _part in env_list("LINGE_RANK_WEIGHTS", ["on_time=0.4", "satisfaction=0.3", "in_grid=0.2",
                                              "proactive=0.1"]):
    _name, _, _value = _part.partition("=")
    try:
        LINGE_RANK_WEIGHTS[_name.strip()] = float(_value)
    except ValueError:
        raise ImproperlyConfigured(f"LINGE_RANK_WEIGHTS: {_part!r} is not name=number") from None
if not set(LINGE_RANK_WEIGHTS) <= {"on_time", "satisfaction", "in_grid", "proactive"} or not (
        sum(LINGE_RANK_WEIGHTS.values()) > 0 and min(LINGE_RANK_WEIGHTS.values()) >= 0):
    raise ImproperlyConfigured(
        "LINGE_RANK_WEIGHTS takes on_time, satisfaction, in_grid, proactive = weights ≥ 0")
LINGE_MAP_TILES = env_str("LINGE_MAP_TILES", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LINGE_LOG_LEVEL", "INFO")},
    "loggers": {"jieba": {"level": "WARNING"}},
}
