"""/api/v1/surveys: the satisfaction report, the answers with their comments, and the IVR
result import."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from kefu.core.api_base import Input, Out
from kefu.core.permissions import require_perm
from kefu.core.validation import BodyId, PathId
from kefu.surveys import imports, selectors
from kefu.surveys.access import visible_responses
from kefu.surveys.metrics import Figures
from kefu.surveys.models import SurveyTemplate

router = Router(tags=["surveys"])


class FiguresOut(Out):
    sent: int
    answered: int
    response_rate: float | None
    csat_answers: int
    csat: float | None
    nps_answers: int
    nps: float | None
    promoters: float | None
    detractors: float | None
    distribution: dict[str, dict[int, int]]


class GroupOut(Out):
    key: str | None
    label: str
    figures: FiguresOut


class ReportOut(Out):
    total: FiguresOut
    by: str
    groups: list[GroupOut]


class ReportQuery(Schema):
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    agent: PathId | None = None
    team: PathId | None = None
    type: PathId | None = None
    channel: str = ""
    by: Literal["", "agent", "team", "type", "channel", "day", "week", "month"] = ""


def _fig(f: Figures) -> dict[str, Any]:
    return {k: getattr(f, k) for k in FiguresOut.model_fields}


@router.get("/surveys/report", response=ReportOut)
def report(request: HttpRequest, params: Query[ReportQuery]) -> dict[str, Any]:
    require_perm(request.user, "surveys.report")
    filters = selectors.Filters(
        start=params.start,
        end=params.end,
        agent_id=params.agent,
        team_id=params.team,
        ticket_type_id=params.type,
        channel=params.channel,
    )
    total, rows = selectors.report(filters, params.by)
    labels = selectors.group_labels(params.by, [k for k, _f in rows]) if params.by else {}
    return {
        "total": _fig(total),
        "by": params.by,
        "groups": [
            {
                "key": None
                if k is None
                else (k.isoformat() if hasattr(k, "isoformat") else str(k)),
                "label": str(labels.get(k, "")),
                "figures": _fig(f),
            }
            for k, f in rows
        ],
    }


class ResponseOut(Out):
    id: int
    answered_at: dt.datetime
    via: str
    channel: str
    customer_id: int
    ticket_id: int | None
    agent_id: int | None
    version_id: int
    csat_scale: str
    csat_score: int | None
    nps_score: int | None
    dissatisfied: bool
    comment: str
    answers: dict[str, Any]


@router.get("/surveys/responses", response=list[ResponseOut])
def responses(
    request: HttpRequest, q: str = "", limit: int = 50, before: PathId | None = None
) -> list[Any]:
    qs = visible_responses(request.user)
    if q:
        qs = qs.filter(comment__icontains=q[:100])
    if before:
        qs = qs.filter(pk__lt=before)
    return list(qs.order_by("-pk")[: max(1, min(limit, 200))])


class IvrImportIn(Input):
    template: BodyId
    filename: str
    content: str


class ImportOut(Out):
    imported: int


@router.post("/surveys/ivr-import", response=ImportOut)
def ivr_import(request: HttpRequest, body: IvrImportIn) -> dict[str, int]:
    require_perm(request.user, "surveys.import")
    template = SurveyTemplate.objects.filter(pk=body.template).first()
    if template is None:
        from django.core.exceptions import ValidationError

        raise ValidationError({"template": ["No such survey template."]})
    actor: Any = request.user
    count = imports.import_ivr_results(
        actor=actor, name=body.filename[:200], text=body.content, template=template
    )
    return {"imported": count}
