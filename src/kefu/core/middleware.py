"""Request-wide concerns: security headers, the user's language, request origin, idle expiry."""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.core.context import Origin, new_request_id, set_origin

Handler = Callable[[HttpRequest], HttpResponse]


class SecurityHeadersMiddleware:
    """A Content-Security-Policy with a per-request nonce for Kefu's own inline scripts.

    No inline event handlers or injected <script> can run; Alpine.js needs 'unsafe-eval' to
    evaluate its x-* expressions, which user text never reaches (it is escaped or sanitised).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = (
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{nonce}' 'unsafe-eval'; "
                "style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data: blob:; font-src 'self' data:; "
                "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "
                "form-action 'self'; object-src 'none'"
            )
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class UserLanguageMiddleware:
    """Pick the interface language: the user's own setting, then the cookie, then the browser.

    Runs after authentication so a signed-in user's choice follows them to any device.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = getattr(user, "language", "") or ""
        if language not in self.supported:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in self.supported:
            language = translation.get_language_from_request(request)
        if language not in self.supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch = response.get("Vary", "")
        if "Accept-Language" not in patch:
            response["Vary"] = f"{patch}, Accept-Language" if patch else "Accept-Language"
        translation.deactivate()
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The address of the person's machine.

    X-Forwarded-For is believed only from the proxies named in ``KEFU_TRUSTED_PROXIES`` (the
    reverse proxy the operator runs), and then only as far as it was written by trusted
    proxies: reading from the right, the first address that is not a trusted proxy is the
    client. Anyone can send the header, so the left-most value proves nothing."""
    peer: str | None = request.META.get("REMOTE_ADDR") or None
    trusted = getattr(settings, "KEFU_TRUSTED_PROXIES", ())
    if not peer or not trusted or not _in_networks(peer, trusted):
        return peer
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _valid_ip(hop):
            return peer  # a forged or garbled chain: fall back to the proxy itself
        if not _in_networks(hop, trusted):
            return hop
    # Every hop is a trusted network (agents inside the office network, say): the first one is
    # the machine the request started from.
    return hops[0] if hops else peer


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _in_networks(
    address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


class RequestLimitsMiddleware:
    """Refuse oversized or mistyped request bodies before anything reads them.

    - a body larger than ``KEFU_MAX_REQUEST_MB`` (uploads included) is a 413 answered from the
      Content-Length header alone, so a 60 MB upload is never read into the server;
    - a body that is not a file upload is limited to ``DATA_UPLOAD_MAX_MEMORY_SIZE``;
    - the API takes JSON (``application/json``) or file uploads (``multipart/form-data``); any
      other body is a 415 instead of being guessed at.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self._refusal(request)
        if refusal is not None:
            status, message = refusal
            if request.path.startswith("/api/"):
                from kefu.core.api_base import error_response

                response: HttpResponse = error_response(status, message)
            else:
                response = HttpResponse(
                    message, status=status, content_type="text/plain; charset=utf-8"
                )
            # The body was not read: the connection cannot carry another request.
            response["Connection"] = "close"
            return response
        return self.get_response(request)

    def _refusal(self, request: HttpRequest) -> tuple[int, str] | None:
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
        ):
            # No text column stores it (PostgreSQL refuses it outright): say so at the door.
            return 400, str(_("The query string contains a NUL character."))
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        if not raw_length.isascii() or not raw_length.isdigit():
            return 400, str(_("The Content-Length header is not a number."))
        length = int(raw_length)
        if length == 0:
            return None
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        upload = content_type == "multipart/form-data"
        limit = settings.KEFU_MAX_REQUEST_BYTES if upload else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            return 413, str(
                _("The request is %(size).1f MB; at most %(limit).1f MB is accepted.")
                % {"size": length / 1048576, "limit": limit / 1048576}
            )
        if (
            request.path.startswith("/api/")
            and request.method in ("POST", "PUT", "PATCH", "DELETE")
            and content_type not in ("application/json", "multipart/form-data")
        ):
            return 415, str(
                _(
                    "Send the body as application/json (or multipart/form-data for files), not %(t)s."
                )
                % {"t": content_type or _("an unnamed type")}
            )
        return None


class RequestContextMiddleware:
    """Record where changes made during this request come from (for the event log)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith("/api/"):
            source = "api"
        elif path.startswith("/portal/"):
            source = "portal"
        elif path.startswith("/admin/"):
            source = "admin"
        else:
            source = "web"
        request_id = request.headers.get("X-Request-Id", "")[:32] or new_request_id()
        set_origin(Origin(source=source, ip=client_ip(request), request_id=request_id))
        try:
            response = self.get_response(request)
        finally:
            set_origin(Origin())
        response["X-Request-Id"] = request_id
        return response


class SessionIdleMiddleware:
    """Slide the session's expiry while the user is active, at most every five minutes.

    The session then ends KEFU_SESSION_HOURS after the last activity, without writing the
    session store on every request.
    """

    touch_every = 300

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            seen = session.get("_kefu_seen", 0)
            if not isinstance(seen, int) or now - seen > self.touch_every:
                session["_kefu_seen"] = now
        return self.get_response(request)


class ApiErrorMiddleware:
    """Give /api/ responses that Django itself produced (a CSRF refusal, a wrong method, a
    missing route) the API's one error body instead of an HTML page."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from kefu.core.api_base import error_response

            messages = {
                403: "CSRF check failed: send the X-CSRFToken header with session requests, or use an API token.",
                405: f"{request.method} is not allowed on {request.path}.",
            }
            message = messages.get(response.status_code, response.reason_phrase)
            replacement = error_response(response.status_code, message)
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response


class ServerTimingMiddleware:
    """With KEFU_SERVER_TIMING=1, report time spent and SQL queries run per request in a
    Server-Timing header (``app;dur=12.3, db;dur=4.1;desc="7 queries"``): for benchmarks and
    for reading a slow page in the browser's network panel. Off by default."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.enabled = bool(getattr(settings, "KEFU_SERVER_TIMING", False))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.enabled:
            return self.get_response(request)
        from time import perf_counter

        from django.db import connection

        spent = {"n": 0, "db": 0.0}

        def count(
            execute: Callable[..., object], sql: str, params: object, many: bool, context: object
        ) -> object:
            started = perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent["n"] += 1
                spent["db"] += perf_counter() - started

        started = perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        total = (perf_counter() - started) * 1000
        response["Server-Timing"] = (
            f'app;dur={total:.2f}, db;dur={spent["db"] * 1000:.2f};desc="{spent["n"]} queries"'
        )
        response["X-Kefu-Queries"] = str(spent["n"])
        return response


class ApiRateLimitMiddleware:
    """At most ``KEFU_API_RATE_LIMIT`` API requests a minute per caller: the API token (by its
    public prefix), else the signed-in user, else the client address. Every API response says
    where the caller stands (``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``);
    past the limit the answer is 429 with ``Retry-After``."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.KEFU_API_RATE_LIMIT
        if not limit or not request.path.startswith("/api/"):
            return self.get_response(request)
        from kefu.core.ratelimit import hit

        window = hit(self._caller(request), limit, settings.KEFU_API_RATE_WINDOW_SECONDS)
        if window.allowed:
            response = self.get_response(request)
        else:
            from kefu.core.api_base import error_response

            response = error_response(
                429,
                _("Too many requests: at most %(n)d a minute. Try again in %(s)d seconds.")
                % {"n": limit, "s": window.reset_seconds},
            )
            response["Retry-After"] = str(window.reset_seconds)
        response["RateLimit-Limit"] = str(window.limit)
        response["RateLimit-Remaining"] = str(window.remaining)
        response["RateLimit-Reset"] = str(window.reset_seconds)
        return response

    @staticmethod
    def _caller(request: HttpRequest) -> str:
        """Whose window a request counts against. A token counts only once it is proven (so a
        stranger who knows a token's public prefix cannot use up its owner's window, and made-up
        tokens cannot each open a fresh window); anything unproven counts against its address."""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            from kefu.accounts.services import authenticate_token

            found = authenticate_token(auth.removeprefix("Bearer ").strip())
            request.kefu_token = found  # type: ignore[attr-defined] # TokenAuth reuses it
            if found is not None:
                return f"token:{found[1].prefix}"
        elif not auth:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                return f"user:{user.pk}"
        return f"ip:{client_ip(request)}"
