"""The requirement lifecycle (需求管理), in one table:

收集 collect → 整理 organise → 分析 analyse → 筛选 screen → 实施 implement → 跟踪 track
→ 关闭 closed; not taken up (rejected) from any step before implementation; merged into a
duplicate. Nothing here touches the database.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    COLLECT = "collect", _("Collected")
    ORGANISE = "organise", _("Organised")
    ANALYSE = "analyse", _("Analysed")
    SCREEN = "screen", _("Screened")
    IMPLEMENT = "implement", _("Being implemented")
    TRACK = "track", _("Shipped, tracking")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Not taken up")
    MERGED = "merged", _("Merged")


EARLY = (Status.COLLECT, Status.ORGANISE, Status.ANALYSE, Status.SCREEN)
FINAL = (Status.CLOSED, Status.REJECTED, Status.MERGED)

TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.COLLECT, Status.ORGANISE): "organise",
    (Status.ORGANISE, Status.ANALYSE): "analyse",
    (Status.ANALYSE, Status.SCREEN): "screen",
    (Status.SCREEN, Status.IMPLEMENT): "accept",
    (Status.IMPLEMENT, Status.TRACK): "ship",
    (Status.TRACK, Status.CLOSED): "close",
    (Status.ANALYSE, Status.ORGANISE): "back",
    (Status.SCREEN, Status.ANALYSE): "back",
    (Status.TRACK, Status.IMPLEMENT): "rework",
    (Status.REJECTED, Status.ORGANISE): "reconsider",
    **{(s, Status.REJECTED): "reject" for s in EARLY},
}

MOVE_LABELS = {
    "organise": _("Organised"),
    "analyse": _("Analysed"),
    "screen": _("To screening"),
    "accept": _("Accept and implement"),
    "ship": _("Shipped: tell the customers"),
    "close": _("Close"),
    "back": _("Send back"),
    "rework": _("Back to implementation"),
    "reconsider": _("Reconsider"),
    "reject": _("Do not take up"),
}


class TransitionError(Exception):
    pass


def move(current: str, target: str) -> str:
    name = TRANSITIONS.get((current, target))
    if name is None:
        label = Status(target).label if target in Status.values else target
        raise TransitionError(
            _("A requirement that is “%(current)s” cannot become “%(target)s”.")
            % {"current": Status(current).label, "target": label}
        )
    return name


def targets(current: str) -> list[tuple[str, str]]:
    return [(to, name) for (frm, to), name in TRANSITIONS.items() if frm == current]
