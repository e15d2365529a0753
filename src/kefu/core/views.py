"""Start page, language switch, health check, audit log and error pages."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import selectors
from kefu.core.dashboard import dashboard_cards
from kefu.core.pagination import CursorError, paginate
from kefu.core.permissions import Role, require_perm, require_staff
from kefu.core.validation import parse_id

if TYPE_CHECKING:
    from kefu.accounts.models import User


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if user.role == Role.CUSTOMER:
        return redirect("portal:home")
    require_staff(user)
    return render(
        request, "core/home.html", {"cards": dashboard_cards(request), "now": timezone.now()}
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    supported = {code for code, _name in settings.LANGUAGES}
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language in supported:
        user = request.user
        if user.is_authenticated:
            from kefu.accounts.services import update_user

            with contextlib.suppress(ValidationError):
                update_user(actor=user, user=user, changes={"language": language})
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
        )
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 when the database (and Redis, if configured) answer."""
    checks: dict[str, str] = {}
    ok = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report any failure
        checks["database"] = f"error: {exc.__class__.__name__}"
        ok = False
    if settings.REDIS_URL:
        from django.core.cache import cache

        try:
            cache.set("kefu:healthz", 1, 5)
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {exc.__class__.__name__}"
            ok = False
    return JsonResponse({"status": "ok" if ok else "error", **checks}, status=200 if ok else 503)


def _parse_date(value: str) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "audit.view")
    params = request.GET
    after = _parse_date(params.get("after", ""))
    before = _parse_date(params.get("before", ""))
    filters = selectors.EventFilters(
        actor=parse_id(params.get("actor")),
        action=params.get("action") or None,
        object_type=params.get("object_type") or None,
        object_id=parse_id(params.get("object_id")),
        source=params.get("source") or None,
        after=after,
        before=before + dt.timedelta(days=1) if before else None,
    )
    qs = selectors.filter_events(filters).select_related("actor")
    error = ""
    try:
        page = paginate(
            qs, sort="-id", keys=selectors.EVENT_SORT, cursor=params.get("cursor"), limit=50
        )
    except CursorError as exc:
        error = str(exc)
        page = paginate(qs, sort="-id", keys=selectors.EVENT_SORT, cursor=None, limit=50)
    from kefu.accounts.models import User
    from kefu.core.models import Event

    context: dict[str, Any] = {
        "page": page,
        "error": error,
        "filters": params,
        "actions": sorted(selectors.event_actions()),
        "object_types": sorted(selectors.event_object_types()),
        "sources": Event.Source.choices,
        "actors": User.objects.exclude(role=Role.CUSTOMER)
        .order_by("display_name")
        .only("id", "display_name", "employee_no"),
    }
    request.nav_key = "audit"  # type: ignore[attr-defined]
    return render(request, "core/audit.html", context)


def _error(request: HttpRequest, status: int, heading: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        from kefu.core.api_base import error_response

        return error_response(status, message)
    return render(
        request,
        "kefu/error.html",
        {"status": status, "heading": heading, "message": message},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, _("Bad request"), _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = (
        str(exception)
        if exception and str(exception)
        else _("You do not have permission to open this page.")
    )
    return _error(request, 403, _("No access"), message)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 404, _("Not found"), _("This page does not exist, or you cannot see it.")
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(
        request, 500, _("Server error"), _("Something went wrong on our side. Please try again.")
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    from kefu.core.models import Notification
    from kefu.core.notifications import mark_read

    user = cast("User", request.user)
    require_staff(user)
    if request.method == "POST":
        mark_read(user)
        return redirect("core:notifications")
    items = list(Notification.objects.filter(user_id=user.pk)[:100])
    return render(request, "core/notifications.html", {"items": items, "nav": ""})


@login_required
def notification_count(request: HttpRequest) -> HttpResponse:
    from kefu.core.notifications import unread_count

    n = unread_count(request.user)
    return HttpResponse(str(n) if n else "", content_type="text/plain; charset=utf-8")


@login_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    from kefu.core.models import Notification

    item = Notification.objects.filter(user=cast("User", request.user), pk=notification_id).first()
    if item is None:
        return redirect("core:notifications")
    if item.read_at is None:
        item.read_at = timezone.now()
        item.save(update_fields=["read_at"])
    target = item.url if item.url.startswith("/") and not item.url.startswith("//") else "/"
    return redirect(target)
