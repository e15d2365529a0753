"""Spans of time in words ("3 h 20 min", "45 s"), in the user's language."""

from __future__ import annotations

from django.utils.translation import gettext as _


def clock_parts(seconds: int, *, with_seconds: bool = False) -> list[str]:
    """Hours and minutes (and seconds, if asked) of a non-negative span, largest first."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(_("%(n)d h") % {"n": hours})
    if minutes:
        parts.append(_("%(n)d min") % {"n": minutes})
    if with_seconds and secs:
        parts.append(_("%(n)d s") % {"n": secs})
    return parts
