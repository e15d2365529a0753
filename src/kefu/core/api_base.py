"""The /api/v1 base: authentication, one error body shape, shared schemas.

Every error the API returns has the same body::

    {"error": {"code": "invalid", "message": "…", "fields": {"name": ["…"]}}}

``code`` is stable and machine-readable; ``message`` is for people (in the caller's language);
``fields`` appears when specific inputs are wrong.
"""

from __future__ import annotations

import json
import logging
import typing
from typing import Any

from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    ValidationError,
)
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from kefu.core.context import current_origin, set_origin
from kefu.core.pagination import CursorError
from kefu.core.validation import Conflict

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "throttled",
}


def error_body(
    code: str, message: str, fields: dict[str, list[str]] | None = None, **extra: Any
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    error.update(extra)
    return {"error": error}


def error_response(
    status: int, message: str, fields: dict[str, list[str]] | None = None, **extra: Any
) -> JsonResponse:
    return JsonResponse(
        error_body(STATUS_CODES.get(status, "error"), message, fields, **extra),
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class Out(BaseModel):
    """Base for response bodies built from dicts. Plain pydantic: none of ninja.Schema's ORM
    attribute resolution, which costs more than the rest of a list request."""

    model_config = ConfigDict(from_attributes=True)


def _wants_number(annotation: Any) -> bool:
    """Whether a field's type takes an int or float (and not a bool)."""
    if annotation in (int, float):
        return True
    return any(_wants_number(arg) for arg in typing.get_args(annotation)) and (
        bool not in typing.get_args(annotation)
    )


class Input(Schema):
    """Base for request bodies: unknown fields are refused, so a typo is an error, not a no-op;
    ``true``/``false`` are refused where a number is expected (JSON booleans are not numbers)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                value = data.get(field.alias or name)
                if isinstance(value, bool) and _wants_number(field.annotation):
                    raise PydanticCustomError(
                        "number_not_boolean",
                        "{field}: expected a number, not true or false",
                        {"field": name},
                    )
        return data


class ErrorDetail(Out):
    code: str
    message: str
    fields: dict[str, list[str]] | None = None


class ErrorOut(Out):
    error: ErrorDetail


class DuplicateKeyError(ValueError):
    """A JSON object named the same key twice; which value was meant cannot be known."""


class RepeatedParameterError(ValueError):
    """A query parameter that takes one value was given several."""


class NulCharacterError(ValueError):
    """A JSON string holds U+0000, which no text column stores."""


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKeyError(key)
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            raise NulCharacterError(key)
        if isinstance(value, list) and any(isinstance(v, str) and "\x00" in v for v in value):
            raise NulCharacterError(key)
        seen[key] = value
    return seen


class StrictParser(Parser):
    """JSON bodies with each key once; query parameters that take one value given once.

    Taking the last of two values silently (Python's json, Django's QueryDict) lets a proxy or
    a client bug decide what is stored; refusing the request says what is wrong instead."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body, object_pairs_hook=_refuse_duplicates)
        return typing.cast(dict[str, Any], data)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        if data is request.GET:
            for key, values in data.lists():
                if key not in list_fields and len(values) > 1:
                    raise HttpError(
                        400,
                        _("The query parameter “%(name)s” was given %(n)d times; give it once.")
                        % {"name": key, "n": len(values)},
                    )
        return super().parse_querydict(data, list_fields, request)


_UNCHECKED = object()


class TokenAuth(HttpBearer):
    """``Authorization: Bearer kefu_…``: the token's user, narrowed to the token's scopes."""

    openapi_description = "A personal API token created under My account → API tokens."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from kefu.accounts.models import ApiToken, User
        from kefu.accounts.services import authenticate_token

        # The rate limiter has usually checked this token already (core.middleware).
        checked = getattr(request, "kefu_token", _UNCHECKED)
        found = (
            authenticate_token(token)
            if checked is _UNCHECKED
            else typing.cast("tuple[User, ApiToken] | None", checked)
        )
        if found is None:
            # A request that names a token is judged by that token alone: a wrong, expired or
            # revoked token is refused even when a valid session cookie comes with it.
            raise AuthenticationError(401, "invalid token")
        user, api_token = found
        user.token_scopes = frozenset(api_token.scopes)  # type: ignore[attr-defined]
        request.user = user
        origin = current_origin()
        set_origin(
            origin.__class__(
                source="api",
                ip=origin.ip,
                request_id=origin.request_id,
                via=f"token {api_token.name}",
            )
        )
        return user


class SessionAuth(APIKeyCookie):
    """The browser session of a signed-in user (CSRF token required for changes)."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return None  # the request chose token authentication; see TokenAuth
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


def _ninja_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        loc = [
            str(p)
            for p in err.get("loc", ())
            if p not in ("body", "payload", "query", "path", "form", "data")
        ]
        key = ".".join(loc) or "request"
        message = err.get("msg") or err.get("type") or "invalid"
        fields.setdefault(key, []).append(str(message))
    return fields


def install_error_handlers(api: NinjaAPI) -> None:
    def ninja_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        fields = _ninja_fields(exc.errors)
        summary = "; ".join(f"{k}: {v[0]}" for k, v in list(fields.items())[:3])
        return error_response(422, _("The request is not valid: %(s)s") % {"s": summary}, fields)

    def http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        message = str(exc)
        if isinstance(exc, AuthenticationError) or exc.status_code == 401:
            message = _("Authentication required: send “Authorization: Bearer <token>” or sign in.")
        elif message == "Cannot parse request body":
            cause = exc.__cause__
            if isinstance(cause, DuplicateKeyError):
                message = _("The JSON body names “%(key)s” more than once; send each key once.") % {
                    "key": str(cause)[:100]
                }
            elif isinstance(cause, NulCharacterError):
                message = _("The JSON body holds a NUL character in “%(key)s”.") % {
                    "key": str(cause)[:100]
                }
            elif isinstance(cause, RequestDataTooBig):
                return error_response(413, _too_big_message())
            else:
                message = _("The request body is not valid JSON.")
        return error_response(exc.status_code, message)

    def django_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        if hasattr(exc, "error_dict"):
            fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            summary = "; ".join(f"{k}: {v[0]}" for k, v in list(fields.items())[:3])
            return error_response(422, summary, fields)
        return error_response(422, "; ".join(str(m) for m in exc.messages))

    def denied(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(403, str(exc) or _("You do not have permission to do this."))

    def not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(404, _("Not found."))

    def conflict(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(409, exc.message, current_version=exc.current_version)

    def cursor_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(400, str(exc))

    def too_big(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(413, _too_big_message())

    def out_of_range(request: HttpRequest, exc: Any) -> HttpResponse:
        # A number past what the database column holds (an id of 2^63 or more): no record has
        # it, and the database refused the query before looking.
        return error_response(422, _("A number in the request is out of range."))

    def data_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if "out of range" in str(exc):
            return out_of_range(request, exc)
        return unexpected(request, exc)

    def unexpected(request: HttpRequest, exc: Any) -> HttpResponse:
        log.exception("API error on %s %s", request.method, request.path)
        return error_response(
            500,
            _("Something went wrong on the server (request %(id)s).")
            % {"id": current_origin().request_id},
        )

    api.add_exception_handler(NinjaValidationError, ninja_validation)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(ValidationError, django_validation)
    api.add_exception_handler(PermissionDenied, denied)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(ObjectDoesNotExist, not_found)
    api.add_exception_handler(Conflict, conflict)
    api.add_exception_handler(CursorError, cursor_error)
    api.add_exception_handler(RequestDataTooBig, too_big)
    api.add_exception_handler(OverflowError, out_of_range)
    api.add_exception_handler(DataError, data_error)
    api.add_exception_handler(Exception, unexpected)


def _too_big_message() -> str:
    from django.conf import settings

    return _("The request body is larger than %(mb).1f MB.") % {
        "mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
    }


def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return error_response(404, _("No such API endpoint: %(p)s") % {"p": request.path})
