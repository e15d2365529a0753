"""Quality-inspection screens: the QA home (queue, samples, calibration, disputes, my results and
coaching), a review beside its interaction, a calibration session's spread, and the reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exports import SafeCsvWriter
from kefu.core.permissions import has_perm, require_perm
from kefu.core.validation import parse_id
from kefu.qa import selectors, services
from kefu.qa.access import (
    access_calibration,
    access_coaching,
    access_review,
    sees_all,
    visible_coaching,
)
from kefu.qa.models import CalibrationSession, Dispute, Review, SamplingPlan, Scorecard
from kefu.qa.sources import SOURCES, get_source


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for ms in exc.message_dict.values() for m in ms)
    return " ".join(exc.messages)


def _tz() -> dt.tzinfo:
    return ZoneInfo(settings.TIME_ZONE)


def _require_any(user: Any) -> None:
    if not (has_perm(user, "qa.own") or sees_all(user)):
        raise PermissionDenied(_("You do not have permission to do this."))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_any(user)
    context: dict[str, Any] = {"inspector": sees_all(user)}
    if sees_all(user):
        reviews = selectors.list_reviews(user)
        context.update(
            queue=list(
                reviews.filter(state=Review.State.DRAFT, kind=Review.Kind.INTERNAL).filter(
                    inspector__isnull=True
                )[:50]
            ),  # fmt: skip
            mine=list(reviews.filter(state=Review.State.DRAFT, inspector_id=user.pk)[:50]),
            scored=list(reviews.exclude(state=Review.State.DRAFT)[:30]),
            disputes=list(reviews.filter(state=Review.State.DISPUTED)[:50]),
            plans=list(SamplingPlan.objects.filter(is_active=True).select_related("scorecard")),
            sessions=list(CalibrationSession.objects.select_related("version__scorecard")[:20]),
            scorecards=list(Scorecard.objects.filter(is_active=True).prefetch_related("versions")),
            sources=list(SOURCES.values()),
            kinds=[Review.Kind.MYSTERY, Review.Kind.THIRD_PARTY],
            can_decide=has_perm(user, "qa.decide"),
        )
    else:
        context.update(
            results=list(selectors.list_reviews(user)[:50]),
            coaching=list(visible_coaching(user).select_related("review")[:50]),
        )
    return render(request, "qa/home.html", context)


def _version_from(request: HttpRequest) -> Any:
    card_id = parse_id(request.POST.get("scorecard"))
    card = Scorecard.objects.filter(pk=card_id).first() if card_id else None
    version = card.current_version() if card else None
    if version is None:
        raise ValidationError({"scorecard": [_("Choose a scorecard.")]})
    return version


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """An inspector opens a review of an interaction they name."""
    require_perm(request.user, "qa.review")
    source = request.POST.get("source", "")
    object_id = parse_id(request.POST.get("object_id"))
    try:
        if get_source(source) is None or object_id is None:
            raise ValidationError({"object_id": [_("Choose the kind and give the record number.")]})
        review = services.start_review(request.user, source, object_id, _version_from(request))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("qa:home")
    return redirect("qa:review", pk=review.pk)


@login_required
@require_POST
def take(request: HttpRequest, pk: int) -> HttpResponse:
    """An inspector takes an unassigned review from the sample queue."""
    review = access_review(request.user, pk, perm="qa.review")
    try:
        services.take_review(review, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("qa:home")
    return redirect("qa:review", pk=review.pk)


def _answers_from(request: HttpRequest, review: Review) -> dict[int, tuple[int | None, str]]:
    answers: dict[int, tuple[int | None, str]] = {}
    for criterion in review.version.criteria.all():
        raw = request.POST.get(f"c{criterion.pk}")
        if raw is None:
            continue
        if raw == "na":
            value = None
        else:
            parsed = parse_id(raw) if raw != "0" else 0
            if parsed is None:
                raise ValidationError(
                    {"answers": [_("“%(label)s”: choose a value.") % {"label": criterion.label}]}
                )
            value = parsed
        answers[criterion.pk] = (value, request.POST.get(f"n{criterion.pk}", "").strip())
    return answers


@login_required
def review_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    review = access_review(user, pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("save", "submit"):
                services.save_review(review, _answers_from(request, review), actor=user,
                                     comment=request.POST.get("comment", ""), submit=action == "submit")  # fmt: skip
                messages.success(
                    request, _("QA review scored.") if action == "submit" else _("Saved.")
                )
            elif action == "dispute":
                services.dispute_review(review, request.POST.get("reason", ""), actor=user)
                messages.success(request, _("Your dispute has been sent to the supervisors."))
            elif action == "decide":
                decision = request.POST.get("decision", "")
                answers = (
                    _answers_from(request, review) if decision == Dispute.Decision.CHANGED else {}
                )
                services.decide_dispute(review, decision, actor=user,
                                        note=request.POST.get("note", ""), answers=answers)  # fmt: skip
                messages.success(request, _("Dispute decided."))
            elif action == "coach":
                criterion = (
                    parse_id(request.POST.get("criterion"))
                    if request.POST.get("criterion")
                    else None
                )
                due = request.POST.get("due_on") or None
                services.create_coaching(
                    review, actor=user, excerpt=request.POST.get("excerpt", ""),
                    expected=request.POST.get("expected", ""), criterion_id=criterion,
                    due_on=dt.date.fromisoformat(due) if due else None,
                )  # fmt: skip
                messages.success(request, _("Coaching task assigned."))
            else:
                raise ValidationError({"action": [_("Unknown action.")]})
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        except ValueError:
            messages.error(request, _("Give the due date as YYYY-MM-DD."))
        return redirect("qa:review", pk=review.pk)
    source = get_source(review.source) if review.source else None
    interaction = None
    if source is not None and review.object_id is not None:
        try:
            interaction = source.load(user, review.object_id)
        except (Http404, PermissionDenied):
            interaction = None
    dispute = (
        Dispute.objects.filter(review=review).select_related("raised_by", "decided_by").first()
    )
    editing = (review.state == Review.State.DRAFT and has_perm(user, "qa.review")
               and review.inspector_id in (None, user.pk))  # fmt: skip
    return render(request, "qa/review.html", {
        "review": review, "interaction": interaction,
        "rows": [(a, list(range(a.criterion.max_points + 1))) for a in selectors.answers_of(review)],
        "dispute": dispute, "editing": editing,
        "can_dispute": (review.agent_id == user.pk and dispute is None and review.kind == Review.Kind.INTERNAL
                        and review.state == Review.State.SUBMITTED),
        "can_decide": review.state == Review.State.DISPUTED and has_perm(user, "qa.decide"),
        "can_coach": (has_perm(user, "qa.review") and review.kind == Review.Kind.INTERNAL
                      and review.state != Review.State.DRAFT),
        "coaching": list(review.coaching.all()) if sees_all(user) or review.agent_id == user.pk else [],
        "decisions": Dispute.Decision.choices,
    })  # fmt: skip


@login_required
@require_POST
def run_plan(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "qa.review")
    plan = SamplingPlan.objects.filter(pk=pk, is_active=True).select_related("scorecard").first()
    if plan is None:
        raise Http404
    seed = request.POST.get("seed", "").strip()
    try:
        if seed and parse_id(seed) is None:
            raise ValidationError({"seed": [_("The seed must be a whole number.")]})
        run = services.run_sample(plan, actor=request.user, seed=int(seed) if seed else None)
        messages.success(request, _("Sample drawn: %(n)d interactions (seed %(seed)d).")
                         % {"n": run.picked, "seed": run.seed})  # fmt: skip
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("qa:home")


@login_required
@require_POST
def calibrate(request: HttpRequest) -> HttpResponse:
    from kefu.accounts.models import User

    require_perm(request.user, "qa.review")
    ids = [i for i in (parse_id(v) for v in request.POST.getlist("inspectors")) if i]
    object_id = parse_id(request.POST.get("object_id"))
    try:
        if object_id is None:
            raise ValidationError({"object_id": [_("Give the record number.")]})
        session = services.start_calibration(
            actor=request.user, title=request.POST.get("title", ""),
            source=request.POST.get("source", ""), object_id=object_id,
            version=_version_from(request), inspectors=list(User.objects.filter(pk__in=ids, is_active=True)),
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return redirect("qa:home")
    return redirect("qa:calibration", pk=session.pk)


@login_required
def calibration_page(request: HttpRequest, pk: int) -> HttpResponse:
    session = access_calibration(request.user, pk)
    return render(request, "qa/calibration.html", {"cal": selectors.calibration(session)})


@login_required
@require_POST
def coaching_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = access_coaching(request.user, pk)
    try:
        services.complete_coaching(task, actor=request.user, note=request.POST.get("note", ""))
        messages.success(request, _("Coaching marked as done."))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("qa:home")


@login_required
@require_POST
def external(request: HttpRequest) -> HttpResponse:
    from kefu.accounts.models import User

    require_perm(request.user, "qa.review")
    try:
        agent_id = parse_id(request.POST.get("agent"))
        agent = User.objects.filter(pk=agent_id, is_active=True).first() if agent_id else None
        if agent is None:
            raise ValidationError({"agent": [_("Choose the agent.")]})
        try:
            score = Decimal(request.POST.get("score", "").strip())
        except InvalidOperation:
            raise ValidationError({"score": [_("The score must be a number 0–100.")]}) from None
        try:
            day = dt.date.fromisoformat(request.POST.get("date", ""))
        except ValueError:
            raise ValidationError({"date": [_("Give the date as YYYY-MM-DD.")]}) from None
        services.record_external_review(
            actor=request.user, version=_version_from(request), agent=agent,
            kind=request.POST.get("kind", ""), evaluator=request.POST.get("evaluator", ""),
            score=score, comment=request.POST.get("comment", ""),
            occurred_at=dt.datetime.combine(day, dt.time(12), tzinfo=_tz()),
        )  # fmt: skip
        messages.success(request, _("External evaluation recorded."))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("qa:home")


def _period(request: HttpRequest) -> tuple[dt.datetime, dt.datetime]:
    today = timezone.now().astimezone(_tz()).date()
    try:
        start = dt.date.fromisoformat(
            request.GET.get("from") or (today - dt.timedelta(days=27)).isoformat()
        )
        end = dt.date.fromisoformat(request.GET.get("to") or today.isoformat())
    except ValueError:
        start, end = today - dt.timedelta(days=27), today
    if end < start:
        start, end = end, start
    return (dt.datetime.combine(start, dt.time(), tzinfo=_tz()),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=_tz()))  # fmt: skip


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "qa.reports")
    start, end = _period(request)
    data = selectors.report(request.user, start, end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="qa-report.csv"'
        response.write("\ufeff")
        writer = SafeCsvWriter(response)
        writer.writerow(
            [_("Group"), _("Name"), _("Reviews"), _("Mean score"), _("Critical failures")]
        )
        for group, rows in ((_("Agent"), data.by_agent), (_("Team"), data.by_team),
                            (_("Week"), data.by_week), (_("Criterion"), data.by_criterion),
                            (_("External"), data.external)):  # fmt: skip
            for row in rows:
                writer.writerow([group, row.label, row.n, row.mean, row.failed_critical])
        return response
    return render(request, "qa/reports.html", {
        "r": data, "start": start.date(), "end": (end - dt.timedelta(days=1)).date(),
        "worst": data.by_criterion[:5],
    })  # fmt: skip
