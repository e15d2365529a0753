"""`kefu check` warns when the installed holiday data does not cover the coming year (a note,
not a failure: the centre can enter the holidays by hand meanwhile)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Warning as CheckWarning
from django.utils import timezone


def missing_holiday_years(today: Any = None) -> list[int]:
    """Years China calendars will need soon (this one, and next one from October) that the
    installed chinesecalendar has no statutory data for."""
    from kefu.sla.china import year_is_supported

    today = today or timezone.localdate()
    wanted = [today.year] + ([today.year + 1] if today.month >= 10 else [])
    return [year for year in wanted if not year_is_supported(year)]


def holiday_data(app_configs: Any = None, **kwargs: Any) -> list[CheckWarning]:
    from django.db import DatabaseError

    from kefu.sla.models import BusinessCalendar

    try:
        uses_china = BusinessCalendar.objects.filter(kind=BusinessCalendar.Kind.CHINA).exists()
    except DatabaseError:  # not migrated yet
        return []
    years = missing_holiday_years() if uses_china else []
    if not years:
        return []
    listed = ", ".join(str(y) for y in years)
    return [
        CheckWarning(
            f"No statutory holiday data for {listed} in the installed chinesecalendar package.",
            hint=(
                "Upgrade chinesecalendar once the State Council has published the holidays, or "
                "enter the holidays and 调休 days under SLA setup → business calendars; until "
                "then those days count as ordinary weekdays and weekends."
            ),
            id="kefu.sla.W001",
        )
    ]
