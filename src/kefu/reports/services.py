"""The rules of monitoring and reports: alert thresholds, report templates, and generating,
archiving and mailing periodic reports exactly once per period."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import events
from kefu.core.jobs import enqueue
from kefu.core.permissions import require_perm
from kefu.reports import documents
from kefu.reports.facts import Scope
from kefu.reports.metrics import METRICS
from kefu.reports.models import AlertThreshold, Period, ReportRun, ReportTemplate
from kefu.reports.report import build

log = logging.getLogger(__name__)
MAX_RECIPIENTS = 50


# --- thresholds -----------------------------------------------------------------------------------


def set_threshold(
    *, actor: Any, metric: str, queue: Any, warn: float, alarm: float
) -> AlertThreshold:
    """Store when a wall-board figure turns amber and red (for the centre when ``queue`` is
    None). For a figure where high is good, red must not be above amber; else not below."""
    require_perm(actor, "reports.wallboard_manage")
    definition = METRICS.get(metric)
    if definition is None or not definition.better:
        raise ValidationError({"metric": _("This figure has no alert colours.")})
    if definition.better == "high" and alarm > warn:
        raise ValidationError({"alarm": _("For this figure red must be at or below amber.")})
    if definition.better == "low" and alarm < warn:
        raise ValidationError({"alarm": _("For this figure red must be at or above amber.")})
    with transaction.atomic():
        row = AlertThreshold.objects.select_for_update().filter(metric=metric, queue=queue).first()
        before = {"warn": row.warn, "alarm": row.alarm} if row else {}
        if row is None:
            row = AlertThreshold(metric=metric, queue=queue)
        row.warn, row.alarm, row.updated_by = warn, alarm, actor
        row.save()
        events.record(
            "wallboard_threshold_set",
            row,
            actor=actor,
            changes={"before": before, "after": {"warn": warn, "alarm": alarm}},
            data={"metric": metric, "queue": queue.pk if queue else None},
        )
    return row


def clear_threshold(*, actor: Any, threshold: AlertThreshold) -> None:
    require_perm(actor, "reports.wallboard_manage")
    with transaction.atomic():
        events.record(
            "wallboard_threshold_cleared",
            threshold,
            actor=actor,
            data={"metric": threshold.metric, "warn": threshold.warn, "alarm": threshold.alarm},
        )
        threshold.delete()


# --- templates ------------------------------------------------------------------------------------


def _recipients(text: str) -> str:
    lines = [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]
    if len(lines) > MAX_RECIPIENTS:
        raise ValidationError(
            {"recipients": _("At most %(n)d recipients.") % {"n": MAX_RECIPIENTS}}
        )
    for line in lines:
        try:
            validate_email(line)
        except ValidationError:
            raise ValidationError(
                {"recipients": _("“%(v)s” is not an e-mail address.") % {"v": line[:80]}}
            ) from None
    return "\n".join(lines)


def save_template(
    *,
    actor: Any,
    template: ReportTemplate | None,
    name: str,
    period: str,
    sections: Any,
    recipients: str,
    active: bool,
) -> ReportTemplate:
    require_perm(actor, "reports.manage")
    errors: dict[str, Any] = {}
    name = name.strip()
    if not name:
        errors["name"] = _("Give the report a name.")
    elif (
        ReportTemplate.objects.filter(name=name)
        .exclude(pk=template.pk if template is not None else 0)
        .exists()
    ):
        errors["name"] = _("Another report has this name.")
    if period not in Period.values:
        errors["period"] = _("Choose weekly, monthly, quarterly or annual.")
    try:
        clean_sections = documents.validate_sections(sections)
    except ValidationError as e:
        errors["sections"] = e.messages[0]
    try:
        clean_recipients = _recipients(recipients)
    except ValidationError as e:
        errors.update(e.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        created = template is None
        if template is None:
            template = ReportTemplate(created_by=actor)
        template.name, template.period = name, period
        template.sections, template.recipients, template.active = (
            clean_sections,
            clean_recipients,
            active,
        )
        template.save()
        events.record(
            "report_template_created" if created else "report_template_changed",
            template,
            actor=actor,
            data={"period": period, "sections": len(clean_sections), "active": active},
        )
    return template


# --- periods --------------------------------------------------------------------------------------


def last_complete_period(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The latest whole week (Monday–Sunday), month, quarter or year before ``today``."""
    if period == Period.WEEKLY:
        monday = today - dt.timedelta(days=today.weekday())
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    if period == Period.MONTHLY:
        first = today.replace(day=1)
        end = first - dt.timedelta(days=1)
        return end.replace(day=1), end
    if period == Period.QUARTERLY:
        first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        end = first - dt.timedelta(days=1)
        return end.replace(month=(end.month - 1) // 3 * 3 + 1, day=1), end
    if period == Period.ANNUAL:
        return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    raise ValueError(period)


# --- runs -----------------------------------------------------------------------------------------


def _zone() -> dt.tzinfo:
    return timezone.get_default_timezone()


def render_files(template: ReportTemplate, start: dt.date, end: dt.date) -> tuple[bytes, bytes]:
    report = build(Scope(start, end, _zone()))
    now = timezone.localtime()
    blocks = documents.resolve(report, template.sections, now)
    subtitle = f"{start:%Y-%m-%d} – {end:%Y-%m-%d} · {_('generated')} {now:%Y-%m-%d %H:%M}"
    return (
        documents.to_pdf(template.name, subtitle, blocks),
        documents.to_xlsx(template.name, subtitle, blocks),
    )


def claim_run(
    template: ReportTemplate, start: dt.date, end: dt.date, *, actor: Any = None
) -> ReportRun | None:
    """The run row for this template and period, created now; None when a scheduled run of the
    period already exists (the unique constraint decides between two schedulers)."""
    trigger = ReportRun.Trigger.MANUAL if actor is not None else ReportRun.Trigger.SCHEDULE
    try:
        with transaction.atomic():
            run = ReportRun.objects.create(
                template=template,
                period_start=start,
                period_end=end,
                trigger=trigger,
                requested_by=actor,
            )
            events.record(
                "report_generated",
                run,
                actor=actor,
                data={
                    "template": template.pk,
                    "from": str(start),
                    "to": str(end),
                    "trigger": trigger,
                },
            )
            from kefu.reports.tasks import produce_run_task

            enqueue(produce_run_task, run.pk)
    except IntegrityError:
        return None
    return run


def generate_now(
    *, actor: Any, template: ReportTemplate, start: dt.date, end: dt.date
) -> ReportRun:
    """A manual run ("generate now") for any period; the files are made in the background."""
    require_perm(actor, "reports.generate")
    if end < start:
        raise ValidationError({"end": _("The end date is before the start date.")})
    if (end - start).days > 366:
        raise ValidationError({"end": _("At most one year at a time.")})
    run = claim_run(template, start, end, actor=actor)
    assert run is not None  # manual runs are never unique per period
    return run


def produce_run(run_id: int) -> None:
    """Make the files of a run, archive them and mail the recipients. Safe to run twice: a run
    with its files is not made again, and a run already sent is not sent again."""
    run = ReportRun.objects.select_related("template").filter(pk=run_id).first()
    if run is None:
        return
    template = run.template
    name = f"{template.pk}-{run.period_start:%Y%m%d}-{run.period_end:%Y%m%d}-{run.pk}"
    if not run.pdf:
        try:
            pdf, xlsx = render_files(template, run.period_start, run.period_end)
        except Exception as e:  # noqa: BLE001 - the failure is kept on the run and shown
            log.exception("report run %s failed", run.pk)
            ReportRun.objects.filter(pk=run.pk).update(error=str(e)[:2000])
            return
        run.pdf.save(f"{name}.pdf", ContentFile(pdf), save=False)
        run.xlsx.save(f"{name}.xlsx", ContentFile(xlsx), save=False)
        run.error = ""
        run.save(update_fields=["pdf", "xlsx", "error"])
    recipients = template.recipient_list
    if recipients and run.sent_at is None:
        # claim the sending first, so two workers never mail twice
        claimed = ReportRun.objects.filter(pk=run.pk, sent_at__isnull=True).update(
            sent_at=timezone.now(), sent_to="\n".join(recipients)
        )
        if claimed:
            _mail(run, recipients, name)


def _mail(run: ReportRun, recipients: list[str], name: str) -> None:
    template = run.template
    subject = f"{template.name} {run.period_start:%Y-%m-%d} – {run.period_end:%Y-%m-%d}"
    body = _("The report %(name)s for %(start)s – %(end)s is attached (PDF and Excel).") % {
        "name": template.name,
        "start": run.period_start.isoformat(),
        "end": run.period_end.isoformat(),
    }
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [], bcc=recipients)
    for field_file, mime in ((run.pdf, "application/pdf"), (run.xlsx, XLSX)):
        with field_file.open("rb") as handle:
            suffix = "pdf" if mime == "application/pdf" else "xlsx"
            message.attach(f"{name}.{suffix}", handle.read(), mime)
    try:
        message.send()
    except Exception as e:  # noqa: BLE001 - kept on the run; the archive still holds the files
        log.warning("could not mail report run %s", run.pk, exc_info=True)
        ReportRun.objects.filter(pk=run.pk).update(
            sent_at=None, error=_("Could not send the e-mail: %(e)s") % {"e": str(e)[:500]}
        )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def generate_due(today: dt.date | None = None) -> list[ReportRun]:
    """Claim and make the scheduled run of the last complete period of each active template
    (on the centre's calendar); a period already generated is skipped."""
    today = today or timezone.localdate()
    runs = []
    for template in ReportTemplate.objects.filter(active=True):
        start, end = last_complete_period(template.period, today)
        if ReportRun.objects.filter(
            template=template, period_start=start, trigger=ReportRun.Trigger.SCHEDULE
        ).exists():
            continue
        run = claim_run(template, start, end)
        if run is not None:
            runs.append(run)
    return runs
