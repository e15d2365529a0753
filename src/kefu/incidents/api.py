"""/api/v1/incidents: declare and follow major incidents, link work orders, answer them all,
and the IVR announcement text for the PBX."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import AfterValidator, Field

from kefu.core.api_base import Input, Out
from kefu.core.permissions import require_perm
from kefu.core.validation import BodyId, PathId
from kefu.customers.access import customer_check
from kefu.incidents import access, selectors, services
from kefu.incidents.models import ACTIVE_STATES, Incident, Link

router = Router(tags=["Major incidents"])


def _in_years(value: dt.datetime) -> dt.datetime:
    problem = selectors.year_problem(value)
    if problem:
        raise ValueError(problem)
    return value


IncidentTime = Annotated[dt.datetime, AfterValidator(_in_years)]


class IncidentReportOut(Out):
    linked: int
    customers: int
    by_channel: dict[str, int]
    by_hour: list[tuple[dt.datetime, int]]
    duration_s: int | None
    replies: dict[str, int]
    open_linked: int


class IncidentOut(Out):
    id: int
    reference: str
    title: str
    severity: str
    status: str
    areas: list[str]
    keywords: list[str]
    auto_link: bool
    public_text: str
    ivr_text: str
    started_at: dt.datetime
    declared_at: dt.datetime
    expected_end_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    closing_running: bool
    version: int


class IncidentDetailOut(IncidentOut):
    report: IncidentReportOut


class IncidentLinkOut(Out):
    id: int
    channel: str
    label: str
    ticket: str | None
    customer_id: int | None
    how: str
    linked_at: dt.datetime


class IncidentIvrOut(Out):
    text: str
    incidents: list[int]


class IncidentDeclareIn(Input):
    title: str = Field(max_length=120)
    public_text: str = Field(max_length=2000)
    ivr_text: str = Field("", max_length=500)
    description: str = Field("", max_length=4000)
    severity: str = "major"
    areas: list[str] = Field(default_factory=list, max_length=30)
    keywords: list[str] = Field(default_factory=list, max_length=30)
    started_at: IncidentTime | None = None
    expected_end_at: IncidentTime | None = None
    auto_link: bool = True
    link_existing: bool = True


class IncidentUpdateIn(Input):
    text: str = Field(max_length=2000)
    ivr_text: str = Field("", max_length=500)
    expected_end_at: IncidentTime | None = None
    version: int | None = None


class IncidentResolveIn(Input):
    text: str = Field(max_length=2000)
    closing_reply: str = Field("", max_length=4000)
    version: int | None = None


class IncidentAnswerIn(Input):
    closing_reply: str = Field(max_length=4000)
    version: int | None = None


class IncidentVersionIn(Input):
    version: int | None = None


class IncidentLinkIn(Input):
    ticket: BodyId


class IncidentLinksQuery(Schema):
    after: PathId | None = None
    limit: int = Field(100, ge=1, le=500)


def _out(incident: Incident) -> dict[str, Any]:
    data = {name: getattr(incident, name) for name in IncidentOut.model_fields if name != "id"}
    data["id"] = incident.pk
    return data


def _detail(incident: Incident) -> dict[str, Any]:
    report = selectors.report(incident)
    return {
        **_out(incident),
        "report": {
            "linked": report.linked,
            "customers": report.customers,
            "by_channel": {code: n for code, _label, n in report.by_channel},
            "by_hour": report.by_hour,
            "duration_s": report.duration_s,
            "replies": report.replies,
            "open_linked": report.open_linked,
        },
    }


@router.get("/incidents", response=list[IncidentOut])
def list_incidents(request: HttpRequest, active: bool = False) -> list[dict[str, Any]]:
    incidents = access.visible_incidents(request.user)
    if active:
        incidents = incidents.filter(status__in=ACTIVE_STATES)
    return [_out(i) for i in incidents[:100]]


@router.get("/incidents/ivr", response=IncidentIvrOut)
def ivr_text(request: HttpRequest) -> dict[str, Any]:
    """What the IVR announces before its menu now ("" when nothing is going on)."""
    require_perm(request.user, "incidents.view")
    return {
        "text": services.ivr_announcement(),
        "incidents": [i.pk for i in services.active_incidents()],
    }


@router.post("/incidents", response={201: IncidentDetailOut})
def declare(request: HttpRequest, payload: IncidentDeclareIn) -> Status[Any]:
    incident = services.declare_incident(actor=request.user, **payload.dict())  # type: ignore[arg-type]
    return Status(201, _detail(incident))


@router.get("/incidents/{incident_id}", response=IncidentDetailOut)
def get_incident(request: HttpRequest, incident_id: PathId) -> dict[str, Any]:
    return _detail(access.access_incident(request.user, incident_id))


@router.post("/incidents/{incident_id}/updates", response={201: IncidentDetailOut})
def publish(request: HttpRequest, incident_id: PathId, payload: IncidentUpdateIn) -> Status[Any]:
    incident = access.access_incident(request.user, incident_id, perm="incidents.manage")
    services.publish_update(
        actor=request.user,  # type: ignore[arg-type]
        incident=incident,
        text=payload.text,
        ivr_text=payload.ivr_text,
        expected_end_at=payload.expected_end_at,
        expected_version=payload.version,
    )
    incident.refresh_from_db()
    return Status(201, _detail(incident))


@router.post("/incidents/{incident_id}/resolve", response=IncidentDetailOut)
def resolve(
    request: HttpRequest, incident_id: PathId, payload: IncidentResolveIn
) -> dict[str, Any]:
    incident = access.access_incident(request.user, incident_id, perm="incidents.manage")
    incident = services.resolve_incident(
        actor=request.user,  # type: ignore[arg-type]
        incident=incident,
        text=payload.text,
        closing_reply=payload.closing_reply,
        expected_version=payload.version,
    )
    return _detail(incident)


@router.post("/incidents/{incident_id}/answer", response={202: IncidentDetailOut})
def answer(request: HttpRequest, incident_id: PathId, payload: IncidentAnswerIn) -> Status[Any]:
    incident = access.access_incident(request.user, incident_id, perm="incidents.manage")
    incident = services.start_closing(
        actor=request.user,  # type: ignore[arg-type]
        incident=incident,
        reply=payload.closing_reply,
        expected_version=payload.version,
    )
    return Status(202, _detail(incident))


@router.post("/incidents/{incident_id}/close", response=IncidentDetailOut)
def close(request: HttpRequest, incident_id: PathId, payload: IncidentVersionIn) -> dict[str, Any]:
    incident = access.access_incident(request.user, incident_id, perm="incidents.manage")
    incident = services.close_incident(
        actor=request.user,  # type: ignore[arg-type]
        incident=incident,
        expected_version=payload.version,
    )
    return _detail(incident)


@router.get("/incidents/{incident_id}/links", response=list[IncidentLinkOut])
def links(
    request: HttpRequest, incident_id: PathId, params: Query[IncidentLinksQuery]
) -> list[dict[str, Any]]:
    """The linked contacts the caller may see, oldest first; page with ``after`` = last id."""
    incident = access.access_incident(request.user, incident_id)
    rows = access.visible_links(request.user, incident).select_related("ticket").order_by("id")
    if params.after:
        rows = rows.filter(pk__gt=params.after)
    may_see = customer_check(request.user)
    return [_link(link, may_see) for link in rows[: params.limit]]


def _link(link: Link, may_see: Callable[[int | None], bool]) -> dict[str, Any]:
    """One link; ``customer_id`` only for a caller who may see that customer."""
    return {
        "id": link.pk,
        "channel": link.channel,
        "label": link.label,
        "ticket": link.ticket.number if link.ticket else None,
        "customer_id": link.customer_id if may_see(link.customer_id) else None,
        "how": link.how,
        "linked_at": link.linked_at,
    }


@router.post("/incidents/{incident_id}/links", response={201: IncidentLinkOut})
def link(request: HttpRequest, incident_id: PathId, payload: IncidentLinkIn) -> Status[Any]:
    from kefu.tickets.access import access_ticket

    incident = access.access_incident(request.user, incident_id, perm="incidents.link")
    ticket = access_ticket(request.user, payload.ticket)
    created = services.link_ticket(actor=request.user, incident=incident, ticket=ticket)  # type: ignore[arg-type]
    created.ticket = ticket
    return Status(201, _link(created, customer_check(request.user)))
