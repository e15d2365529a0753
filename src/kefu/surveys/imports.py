"""Importing survey results collected by the IVR (press 1–4 after the call).

CSV with a header row, or a JSON list of objects, with the fields ``call_id`` (the call's id in
the PBX, as the hotline imported it), ``answered_at`` (ISO 8601 with a zone), ``csat`` and
optionally ``nps``. Every row is checked first; one bad row refuses the whole file with its
line number, and nothing is written."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core.permissions import require_perm_unless_system
from kefu.surveys import services
from kefu.surveys.models import Delivery, Invitation, SurveyTemplate, Trigger

FIELDS = ("call_id", "answered_at", "csat", "nps")


@dataclass(frozen=True)
class Row:
    line: int
    call_id: str
    answered_at: dt.datetime
    csat: str
    nps: str


def _records(name: str, text: str) -> list[tuple[int, dict[str, Any]]]:
    if name.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                {
                    "file": [
                        _("%(f)s line %(n)s: not JSON (%(e)s).")
                        % {"f": name, "n": exc.lineno, "e": exc.msg}
                    ]
                }
            ) from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValidationError({"file": [_("%(f)s: expected a list of objects.") % {"f": name}]})
        return [(n, r) for n, r in enumerate(data, start=1)]
    reader = csv.DictReader(io.StringIO(text))
    missing = [f for f in FIELDS[:3] if f not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(
            {
                "file": [
                    _("%(f)s line 1: missing columns %(c)s.") % {"f": name, "c": ", ".join(missing)}
                ]
            }
        )
    return [(reader.line_num, dict(r)) for r in reader]


def parse(name: str, text: str) -> list[Row]:
    rows, errors = [], []
    for line, record in _records(name, text):
        where = _("%(f)s line %(n)s") % {"f": name, "n": line}
        call_id = str(record.get("call_id") or "").strip()
        try:
            at = dt.datetime.fromisoformat(str(record.get("answered_at") or "").strip())
        except ValueError:
            at = None
        if not call_id:
            errors.append(_("%(w)s: call_id is empty.") % {"w": where})
        if at is None or at.tzinfo is None:
            errors.append(
                _("%(w)s: answered_at must be a date and time with a zone.") % {"w": where}
            )
            continue
        rows.append(
            Row(
                line,
                call_id,
                at,
                str(record.get("csat") or "").strip(),
                str(record.get("nps") or "").strip(),
            )
        )
    if errors:
        raise ValidationError({"file": errors})
    return rows


@transaction.atomic
def import_ivr_results(
    *, actor: User | None, name: str, text: str, template: SurveyTemplate
) -> int:
    """Record the IVR answers of a file; returns how many were imported."""
    from kefu.calls.models import Call

    require_perm_unless_system(actor, "surveys.import")
    rows = parse(name, text)
    version = template.current()
    if version is None:
        raise ValidationError({"template": [_("This survey has no questions yet.")]})
    keys = {q["kind"]: q["key"] for q in reversed(version.questions)}
    calls = {
        c.external_id: c
        for c in Call.objects.filter(external_id__in={r.call_id for r in rows}).select_related(
            "user", "customer", "ticket"
        )
    }
    answered = set(
        Invitation.objects.filter(call__in=calls.values(), delivery=Delivery.IVR).values_list(
            "call__external_id", flat=True
        )
    )
    errors: list[str] = []
    with transaction.atomic():
        for row in rows:
            where = _("%(f)s line %(n)s") % {"f": name, "n": row.line}
            call = calls.get(row.call_id)
            if call is None or call.customer is None:
                errors.append(
                    _("%(w)s: no call “%(c)s” with a known customer.")
                    % {"w": where, "c": row.call_id}
                )
                continue
            if row.call_id in answered:
                errors.append(
                    _("%(w)s: call “%(c)s” already has an IVR answer.")
                    % {"w": where, "c": row.call_id}
                )
                continue
            answered.add(row.call_id)
            raw = {}
            for kind, value in (("level4", row.csat), ("stars", row.csat), ("nps", row.nps)):
                if kind in keys and value:
                    raw[keys[kind]] = value
            invitation = services.invite(
                template=template,
                trigger=Trigger.CALL_ENDED,
                delivery=Delivery.IVR,
                customer=call.customer,
                ticket=call.ticket,
                call=call,
                channel="phone",
                agent=call.user,
                team=call.user.teams.first() if call.user else None,
                actor=actor,
            )
            invitation.sent_at = min(invitation.sent_at, row.answered_at)
            invitation.expires_at = max(invitation.expires_at, row.answered_at)
            invitation.save(update_fields=["sent_at", "expires_at"])
            try:
                services.submit_answer(
                    invitation=invitation,
                    raw=raw,
                    via=Delivery.IVR,
                    actor=actor,
                    answered_at=row.answered_at,
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors.extend(f"{where}: {field}: {m}" for m in messages)
        if errors:
            raise ValidationError({"file": errors})
    return len(rows)
