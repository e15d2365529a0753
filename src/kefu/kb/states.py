"""The article lifecycle, in one table: draft → review → published → archived.

Writers (``kb.edit``) draft and send for review; editors (``kb.publish``) publish, send back
with a reason, archive, or publish their own drafts directly. An archived article can be taken
up again as a draft."""

from __future__ import annotations

from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from kefu.kb.models import Article

S = Article.Status


class Move(NamedTuple):
    perm: str
    label: object
    needs_reason: bool = False


TRANSITIONS: dict[tuple[str, str], Move] = {
    (S.DRAFT, S.REVIEW): Move("kb.edit", _("Send for review")),
    (S.DRAFT, S.PUBLISHED): Move("kb.publish", _("Publish")),
    (S.REVIEW, S.PUBLISHED): Move("kb.publish", _("Approve and publish")),
    (S.REVIEW, S.DRAFT): Move("kb.publish", _("Send back"), needs_reason=True),
    (S.PUBLISHED, S.ARCHIVED): Move("kb.publish", _("Archive")),
    (S.PUBLISHED, S.DRAFT): Move("kb.publish", _("Unpublish to draft")),
    (S.ARCHIVED, S.DRAFT): Move("kb.edit", _("Take up again as a draft")),
}


def allowed(current: str, target: str) -> Move | None:
    return TRANSITIONS.get((current, target))


def moves_from(current: str) -> list[tuple[str, Move]]:
    return [(to, move) for (frm, to), move in TRANSITIONS.items() if frm == current]
