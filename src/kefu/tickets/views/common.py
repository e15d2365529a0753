from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from kefu.accounts.models import User
from kefu.core.permissions import require_staff
from kefu.core.validation import Conflict


def staff(request: HttpRequest) -> User:
    user = request.user
    require_staff(user)
    assert isinstance(user, User)
    return user


def error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return " ".join(m for ms in exc.message_dict.values() for m in ms)
        return " ".join(exc.messages)
    if isinstance(exc, Conflict):
        return exc.message
    return str(exc)


def back_to(number: str, anchor: str = "") -> HttpResponse:
    response = redirect("tickets:detail", number=number)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def flash_error(request: HttpRequest, exc: Exception) -> None:
    messages.error(request, error_text(exc))


def uploaded(request: HttpRequest, name: str = "attachments") -> list[Any]:
    return list(request.FILES.getlist(name))
