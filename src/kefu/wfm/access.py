"""Who may load which workforce records: planners (and supervisors, administrators) every
forecast and roster; an agent only a published roster they are on, through their own schedule."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from kefu.core.permissions import has_perm, require_perm
from kefu.wfm.models import Forecast, Roster


def can_plan(user: Any) -> bool:
    return has_perm(user, "wfm.plan")


def require_viewer(user: Any) -> None:
    require_perm(user, "wfm.view")


def access_forecast(user: Any, forecast_id: int) -> Forecast:
    require_perm(user, "wfm.view")
    try:
        return Forecast.objects.get(pk=forecast_id)
    except Forecast.DoesNotExist:
        raise Http404("no such forecast") from None


def access_roster(user: Any, roster_id: int) -> Roster:
    require_perm(user, "wfm.view")
    try:
        return Roster.objects.select_related("team", "forecast").get(pk=roster_id)
    except Roster.DoesNotExist:
        raise Http404("no such roster") from None
