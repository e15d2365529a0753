"""Reading Kefu's settings from the environment.

Every setting Kefu reads is declared once in ``SETTINGS`` below: its name, whether production
requires it, its embedded default and a one-line description. ``kefu.env.example`` is generated
from the same table (``kefu check --env-template``), so the template and the code cannot drift.

A missing or malformed value raises :class:`SettingError` naming the variable; the CLI prints the
message and exits before anything starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse


class SettingError(Exception):
    """A setting in the environment is missing or malformed."""


@dataclass(frozen=True)
class Setting:
    name: str
    description: str
    default: str = ""
    production_required: bool = False
    example: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "KEFU_ENV",
        "embedded (default: SQLite, in-memory channel layer, in-process jobs) or production "
        "(PostgreSQL, Redis, Celery workers; the four required settings below must be set)",
        default="embedded",
        example="production",
    ),
    Setting(
        "KEFU_DATABASE_URL",
        "Database URL. Production needs PostgreSQL: postgres://user:password@host:5432/kefu. "
        "Embedded defaults to SQLite in KEFU_DATA_DIR.",
        production_required=True,
        example="postgres://kefu:secret@127.0.0.1:5432/kefu",
    ),
    Setting(
        "KEFU_REDIS_URL",
        "Redis URL for the channel layer, cache and Celery broker. Optional when embedded.",
        production_required=True,
        example="redis://127.0.0.1:6379/0",
    ),
    Setting(
        "KEFU_SECRET_KEY",
        "Secret used to sign sessions, CSRF tokens and links; at least 32 characters. "
        "Embedded mode generates one in KEFU_DATA_DIR on first start.",
        production_required=True,
        example="change-me-to-50-random-characters",
    ),
    Setting(
        "KEFU_ALLOWED_HOSTS",
        "Comma-separated host names the site answers to.",
        default="127.0.0.1,localhost",
        production_required=True,
        example="kefu.example.com",
    ),
    Setting(
        "KEFU_DATA_DIR",
        "Folder for the embedded database, uploaded files, collected static files and the "
        "generated secret key.",
        default="var",
        example="/var/lib/kefu",
    ),
    Setting(
        "KEFU_MEDIA_DIR",
        "Folder for uploaded attachments (defaults to KEFU_DATA_DIR/media).",
        example="/var/lib/kefu/media",
    ),
    Setting(
        "KEFU_CSRF_TRUSTED_ORIGINS",
        "Comma-separated origins allowed to POST when behind a reverse proxy on another "
        "scheme or port.",
        example="https://kefu.example.com",
    ),
    Setting(
        "KEFU_BEHIND_PROXY",
        "1 when a reverse proxy terminates TLS and sets X-Forwarded-Proto / X-Forwarded-For.",
        default="0",
        example="1",
    ),
    Setting(
        "KEFU_TRUSTED_PROXIES",
        "Comma-separated addresses or networks of the reverse proxies whose X-Forwarded-For "
        "Kefu believes (the client address for sign-in throttling, rate limits and the event "
        "log). Defaults to 127.0.0.1 and ::1 when KEFU_BEHIND_PROXY=1, to none otherwise.",
        example="127.0.0.1,10.0.0.0/8",
    ),
    Setting(
        "KEFU_MAX_REQUEST_MB",
        "Largest request body accepted, file uploads included (default 25, as the reverse "
        "proxy's client_max_body_size, or 1 more than KEFU_ATTACHMENT_MAX_MB when that is "
        "larger); larger requests get 413 before their body is read.",
        example="25",
    ),
    Setting(
        "KEFU_API_RATE_LIMIT",
        "API requests allowed per minute for one token, signed-in user or address (default "
        "600); more get 429 with Retry-After. 0 turns the limit off.",
        example="600",
    ),
    Setting(
        "KEFU_HSTS_SECONDS",
        "Strict-Transport-Security max-age sent over HTTPS in production (default one year, "
        "31536000); 0 turns the header off.",
        example="31536000",
    ),
    Setting(
        "KEFU_SECURE_COOKIES",
        "1 to mark session and CSRF cookies Secure (serve over HTTPS). Defaults to 1 in "
        "production.",
        example="1",
    ),
    Setting(
        "KEFU_SITE_URL",
        "Public base URL used in e-mailed links (password reset, portal sign-in links).",
        default="http://127.0.0.1:8000",
        example="https://kefu.example.com",
    ),
    Setting(
        "KEFU_EMAIL_URL",
        "Outgoing mail server: smtp://user:password@host:587?starttls=1 or "
        "smtps://...:465. Embedded defaults to writing messages to KEFU_DATA_DIR/mail.",
        example="smtp://kefu%40example.com:secret@mail.example.com:587?starttls=1",
    ),
    Setting(
        "KEFU_EMAIL_FROM",
        "Sender address of mail sent by Kefu.",
        default="kefu@localhost",
        example="客服中心 <kefu@example.com>",
    ),
    Setting(
        "KEFU_WEB_WORKERS",
        "Number of uvicorn worker processes for `kefu serve` (production; embedded uses one).",
        example="4",
    ),
    Setting(
        "KEFU_WEB_THREADS",
        "Threads per web process that run requests (default 8); database waits overlap across them.",
        example="8",
    ),
    Setting(
        "KEFU_DB_POOL_SIZE",
        "Most PostgreSQL connections each web or worker process keeps open (default 10); keep "
        "processes × pool size below the server's max_connections.",
        example="10",
    ),
    Setting(
        "KEFU_DB_JIT",
        "1 lets PostgreSQL compile queries with JIT. Off by default: compiling took longer than "
        "the wall board's queries themselves (230 ms a snapshot with JIT, 100 ms without). "
        "Kefu sends jit=off as a connection option; behind PgBouncer, add 'options' to its "
        "ignore_startup_parameters, or set KEFU_DB_JIT=1 and ALTER DATABASE kefu SET jit = off.",
        default="0",
        example="0",
    ),
    Setting(
        "KEFU_ATTACHMENT_MAX_MB",
        "Largest attachment accepted, in MB (default 10). Keep the reverse proxy's body limit above it.",
        example="10",
    ),
    Setting(
        "KEFU_SESSION_HOURS",
        "Idle time in hours after which a signed-in session expires.",
        default="10",
        example="10",
    ),
    Setting(
        "KEFU_LOG_LEVEL",
        "Log level: DEBUG, INFO, WARNING or ERROR.",
        default="INFO",
        example="INFO",
    ),
    Setting(
        "KEFU_SERVER_TIMING",
        "1 to add a Server-Timing header (time and SQL queries per request) to every response.",
        default="0",
        example="0",
    ),
    Setting(
        "KEFU_DEBUG",
        "1 to show Django's debug pages (never in production).",
        default="0",
        example="0",
    ),
    Setting(
        "KEFU_TIME_ZONE",
        "The centre's time zone, used to display times and as the default business-calendar zone.",
        default="Asia/Shanghai",
        example="Asia/Shanghai",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class Env:
    """Typed access to the environment, validating as it reads."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    @property
    def production(self) -> bool:
        mode = self.string("KEFU_ENV").lower()
        if mode not in {"embedded", "production"}:
            raise SettingError(f"KEFU_ENV must be 'embedded' or 'production', not {mode!r}.")
        return mode == "production"

    def check_production(self) -> None:
        """In production, name every required setting that is missing, all at once."""
        if not self.production:
            return
        missing = [s for s in SETTINGS if s.production_required and not self.raw(s.name)]
        if missing:
            lines = "; ".join(f"{s.name} ({s.description.split('.')[0]})" for s in missing)
            raise SettingError(
                f"KEFU_ENV=production needs these settings, which are missing: {lines}"
            )

    def raw(self, name: str) -> str:
        if name not in _BY_NAME:
            raise KeyError(f"{name} is not a declared Kefu setting")
        return self._environ.get(name, "").strip()

    def string(self, name: str) -> str:
        value = self.raw(name)
        if not value:
            setting = _BY_NAME[name]
            if setting.production_required and self.production_flag():
                raise SettingError(
                    f"{name} is required when KEFU_ENV=production: {setting.description}"
                )
            return setting.default
        return value

    def production_flag(self) -> bool:
        return self._environ.get("KEFU_ENV", "").strip().lower() == "production"

    def boolean(self, name: str, default: bool | None = None) -> bool:
        value = self.string(name)
        if not value:
            return bool(default)
        if value.lower() in {"1", "true", "yes", "on"}:
            return True
        if value.lower() in {"0", "false", "no", "off"}:
            return False
        raise SettingError(f"{name} must be 1 or 0 (true/false), not {value!r}.")

    def integer(self, name: str, *, minimum: int = 0, maximum: int = 10**9) -> int | None:
        value = self.string(name)
        if not value:
            return None
        try:
            number = int(value)
        except ValueError:
            raise SettingError(f"{name} must be a whole number, not {value!r}.") from None
        if not minimum <= number <= maximum:
            raise SettingError(f"{name} must be between {minimum} and {maximum}, not {number}.")
        return number

    def strings(self, name: str) -> list[str]:
        return [part.strip() for part in self.string(name).split(",") if part.strip()]

    def url(self, name: str, schemes: tuple[str, ...]) -> str:
        value = self.string(name)
        if not value:
            return ""
        parsed = urlparse(value)
        if parsed.scheme not in schemes:
            raise SettingError(
                f"{name} must start with {' or '.join(s + '://' for s in schemes)}; "
                f"got {value.split('://')[0]!r}."
            )
        if parsed.scheme not in {"sqlite"} and not parsed.hostname:
            raise SettingError(f"{name} has no host name: {_redact(value)}")
        try:
            parsed.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise SettingError(f"{name} has a malformed port: {_redact(value)}") from None
        return value


def _redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def env_template() -> str:
    """The documented template of every setting (shipped as kefu.env.example)."""
    lines = [
        "# Kefu settings. Copy to kefu.env, fill in, and load it into the environment of",
        "# `kefu serve`, `kefu worker` and `kefu beat` (e.g. systemd EnvironmentFile=).",
        "# Settings marked REQUIRED must be set when KEFU_ENV=production.",
        "",
    ]
    for setting in SETTINGS:
        lines.append(f"# {setting.description}")
        flags = []
        if setting.production_required:
            flags.append("REQUIRED in production")
        if setting.default:
            flags.append(f"default: {setting.default}")
        if flags:
            lines.append(f"# ({'; '.join(flags)})")
        lines.append(f"#{setting.name}={setting.example}")
        lines.append("")
    return "\n".join(lines)
