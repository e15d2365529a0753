"""Django settings for Kefu, built from the environment (see kefu.config.env).

Two shapes:
- embedded (default): SQLite in WAL mode, in-memory channel layer, local-memory cache and
  in-process background jobs. One process, no other service.
- production (KEFU_ENV=production): PostgreSQL, Redis (channel layer, cache, Celery broker),
  Celery workers and beat, any number of web processes behind a reverse proxy.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url

from kefu.config.env import Env, SettingError

ENV = Env()
PRODUCTION = ENV.production
ENV.check_production()

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(ENV.string("KEFU_DATA_DIR")).expanduser().resolve()
MEDIA_ROOT = str(Path(ENV.string("KEFU_MEDIA_DIR") or DATA_DIR / "media").expanduser().resolve())
MEDIA_URL = "/media/"  # never served directly: attachments go through access-checked views
STATIC_URL = "/static/"
STATIC_ROOT = str(DATA_DIR / "static")

DEBUG = ENV.boolean("KEFU_DEBUG")


def _secret_key() -> str:
    value = ENV.string("KEFU_SECRET_KEY")
    if value:
        if len(value) < 32:
            raise SettingError("KEFU_SECRET_KEY must be at least 32 characters long.")
        return value
    # Embedded mode: generate once and keep it beside the database so sessions survive restarts.
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = ENV.strings("KEFU_ALLOWED_HOSTS")
if not PRODUCTION:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver", "[::1]"]
CSRF_TRUSTED_ORIGINS = ENV.strings("KEFU_CSRF_TRUSTED_ORIGINS")
SITE_URL = ENV.string("KEFU_SITE_URL").rstrip("/")

# --- database -------------------------------------------------------------------------------

_database_url = ENV.url("KEFU_DATABASE_URL", ("postgres", "postgresql", "sqlite"))
if PRODUCTION and not _database_url.startswith(("postgres://", "postgresql://")):
    raise SettingError("KEFU_DATABASE_URL must be a postgres:// URL when KEFU_ENV=production.")

if _database_url.startswith(("postgres://", "postgresql://")):
    # Under ASGI each request may run on a different thread, so Django's per-thread persistent
    # connections would pile up; psycopg's pool hands a connection to each request instead.
    _db = dj_database_url.parse(_database_url, conn_max_age=0)
    _db["ENGINE"] = "django.db.backends.postgresql"
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"]["pool"] = {
        "min_size": 2,
        "max_size": ENV.integer("KEFU_DB_POOL_SIZE", minimum=1, maximum=200) or 10,
        "timeout": 20,
    }
    if not ENV.boolean("KEFU_DB_JIT"):
        # A libpq startup option, so every pooled connection has it without a round trip.
        # (Behind PgBouncer, add "options" to its ignore_startup_parameters, or set
        # `ALTER DATABASE kefu SET jit = off` and KEFU_DB_JIT=1.)
        own = str(_db["OPTIONS"].get("options", ""))  # e.g. ?options=-c search_path=kefu
        _db["OPTIONS"]["options"] = f"{own} -c jit=off".strip()
    _db["TEST"] = {"NAME": f"test_{_db['NAME']}"}
else:
    _sqlite_path = (
        dj_database_url.parse(_database_url)["NAME"] if _database_url else DATA_DIR / "kefu.sqlite3"
    )
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(_sqlite_path),
        "OPTIONS": {
            # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
            # BEGIN so two writers queue instead of failing with "database is locked" on upgrade.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                "PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, broker -------------------------------------------------------

REDIS_URL = ENV.url("KEFU_REDIS_URL", ("redis", "rediss"))

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "kefu.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "kefu",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: each server process holds one subscription and Redis pushes every
            # message to it. The list-based layer (channels_redis.core) pulls one message per
            # few round trips and could not take 500 chat pushes a second into one process;
            # its excess was dropped from full per-socket queues. Pub/sub delivers at most
            # once, as the list layer did in practice (it dropped what overflowed a socket's
            # queue): chat sockets replay what they missed from the database, from the last
            # number they saw.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL}], "prefix": "kefu:asgi"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Background jobs: Celery with the Redis broker in production, a thread pool in this process
# when embedded (see kefu.core.jobs).
JOBS_BACKEND = "celery" if PRODUCTION else "inprocess"
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_DEFAULT_QUEUE = "kefu"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

# --- applications ---------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "ninja",
    "kefu.core",
    "kefu.accounts",
    "kefu.customers",
    "kefu.portal",
    "kefu.tickets",
    "kefu.sla",
    "kefu.routing",
    "kefu.search",
    "kefu.kb",
    "kefu.wfm",
    "kefu.email",
    "kefu.calls",
    "kefu.surveys",
    "kefu.qa",
    "kefu.chat",
    "kefu.reports",
    "kefu.field",
    "kefu.plans",
    "kefu.requirements",
    "kefu.incidents",
]

MIDDLEWARE = [
    "kefu.core.middleware.ServerTimingMiddleware",
    "kefu.core.middleware.SecurityHeadersMiddleware",
    "kefu.core.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kefu.core.middleware.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kefu.core.middleware.UserLanguageMiddleware",
    "kefu.core.middleware.ApiRateLimitMiddleware",
    "kefu.core.middleware.RequestContextMiddleware",
    "kefu.core.middleware.SessionIdleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kefu.config.urls"
ASGI_APPLICATION = "kefu.config.asgi.application"
WSGI_APPLICATION = "kefu.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kefu.core.context_processors.shell",
            ],
            "builtins": ["django.templatetags.i18n", "kefu.core.templatetags.kefu"],
        },
    }
]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}

# --- accounts and security --------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["kefu.accounts.backends.KefuBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # only to verify imported legacy hashes
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_IDLE_SECONDS = (ENV.integer("KEFU_SESSION_HOURS", minimum=1, maximum=720) or 10) * 3600
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
_secure = ENV.boolean("KEFU_SECURE_COOKIES", default=PRODUCTION)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
_behind_proxy = ENV.boolean("KEFU_BEHIND_PROXY")
if _behind_proxy:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True


def _networks(name: str, default: list[str]) -> tuple[Any, ...]:
    found = []
    for part in ENV.strings(name) or default:
        try:
            found.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingError(f"{name}: {part!r} is not an address or network.") from None
    return tuple(found)


KEFU_TRUSTED_PROXIES = _networks(
    "KEFU_TRUSTED_PROXIES", ["127.0.0.1", "::1"] if _behind_proxy else []
)
# HSTS: browsers keep to HTTPS for this long once they saw the site over HTTPS (production).
_hsts = ENV.integer("KEFU_HSTS_SECONDS", minimum=0, maximum=2 * 31536000)
SECURE_HSTS_SECONDS = (31536000 if _hsts is None else _hsts) if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Login throttling: after this many failures for one account or one address within the window,
# further attempts are refused until the window passes.
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
LOGIN_ADDRESS_FAILURE_LIMIT = 30
# Failures of one account from devices it never signed in on, from anywhere: past this, only
# its known devices (the signed device cookie) may still try. The owner is never locked out.
LOGIN_ACCOUNT_FAILURE_LIMIT = 50
# Password-reset and sign-in-link mails per hour: per client address, and per recipient.
ACCOUNT_MAIL_ADDRESS_LIMIT = 10
ACCOUNT_MAIL_RECIPIENT_LIMIT = 3

# Request bodies: forms and JSON up to 2.5 MB; uploads up to KEFU_MAX_REQUEST_MB in all
# (each attachment also has its own limit per feature).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
_rate = ENV.integer("KEFU_API_RATE_LIMIT", minimum=0, maximum=1_000_000)
KEFU_API_RATE_LIMIT = 600 if _rate is None else _rate
KEFU_API_RATE_WINDOW_SECONDS = 60
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- e-mail -----------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = ENV.string("KEFU_EMAIL_FROM")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_email_url = ENV.url("KEFU_EMAIL_URL", ("smtp", "smtps"))
if _email_url:
    _mail = urlparse(_email_url)
    _mail_query = parse_qs(_mail.query)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail.hostname or ""
    EMAIL_PORT = _mail.port or (465 if _mail.scheme == "smtps" else 25)
    EMAIL_HOST_USER = unquote(_mail.username or "")
    EMAIL_HOST_PASSWORD = unquote(_mail.password or "")
    EMAIL_USE_SSL = _mail.scheme == "smtps"
    EMAIL_USE_TLS = _mail_query.get("starttls", ["0"])[0] in {"1", "true"}
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")

# --- language and time ------------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [str(PACKAGE_DIR / "locale")]
USE_I18N = True
TIME_ZONE = ENV.string("KEFU_TIME_ZONE")
USE_TZ = True

# --- logging ----------------------------------------------------------------------------------

_level = ENV.string("KEFU_LOG_LEVEL").upper()
if _level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
    raise SettingError(f"KEFU_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {_level!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _level},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "uvicorn.access": {"level": "WARNING"},
    },
}

# --- API --------------------------------------------------------------------------------------

NINJA_PAGINATION_MAX_LIMIT = 200
KEFU_ATTACHMENT_MAX_BYTES = (
    (ENV.integer("KEFU_ATTACHMENT_MAX_MB", minimum=1, maximum=500) or 10) * 1024 * 1024
)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
_request_mb = ENV.integer("KEFU_MAX_REQUEST_MB", minimum=1, maximum=2000)
KEFU_MAX_REQUEST_BYTES = (
    _request_mb * 1024 * 1024
    if _request_mb
    else max(25 * 1024 * 1024, KEFU_ATTACHMENT_MAX_BYTES + 1024 * 1024)
)
if KEFU_MAX_REQUEST_BYTES <= KEFU_ATTACHMENT_MAX_BYTES:
    raise SettingError(
        "KEFU_MAX_REQUEST_MB must be larger than KEFU_ATTACHMENT_MAX_MB, or no attachment of "
        "the allowed size could be uploaded."
    )
# Customers' files are readable by the service account only, whatever the process umask.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
API_TOKEN_PREFIX = "kefu_"  # noqa: S105 - the public marker of Kefu tokens, not a secret

KEFU_WEB_WORKERS = ENV.integer("KEFU_WEB_WORKERS", minimum=1, maximum=64)
KEFU_SERVER_TIMING = ENV.boolean("KEFU_SERVER_TIMING")
KEFU_WEB_THREADS = ENV.integer("KEFU_WEB_THREADS", minimum=1, maximum=64) or 8
