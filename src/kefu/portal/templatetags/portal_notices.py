"""The notices the centre publishes on the portal (an outage, a holiday timetable), shown as a
banner on every portal page, signed in or not."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("portal/_notices.html")
def portal_notices() -> dict[str, Any]:
    from kefu.core.interactions import current_notices

    return {"notices": current_notices("portal")}
