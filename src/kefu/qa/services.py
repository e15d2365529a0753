"""The rules of quality inspection: scorecards and versions, sampling, scoring, disputes,
calibration, coaching and external reviews. Each function validates all input first, changes
records in one transaction and writes an event."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import events
from kefu.core.permissions import require_perm
from kefu.core.validation import clean_text
from kefu.qa import checks, sampling, scoring
from kefu.qa.models import (
    Answer,
    CalibrationSession,
    CoachingTask,
    Criterion,
    Dispute,
    Phrase,
    Review,
    SampleRun,
    SamplingPlan,
    Scale,
    Scorecard,
    ScorecardVersion,
)
from kefu.qa.sources import Interaction, all_candidates, get_source

MAX_WEIGHT = 100
MAX_POINTS = 10


@dataclass(frozen=True)
class CriterionInput:
    section: str
    code: str
    label: str
    scale: str = Scale.YES_NO
    max_points: int = 1
    weight: int = 1
    critical: bool = False
    check: str = ""
    guidance: str = ""


# ---- scorecards --------------------------------------------------------------------------------


def _clean_criteria(criteria: Sequence[CriterionInput]) -> list[CriterionInput]:
    errors: list[str] = []
    if not criteria:
        raise ValidationError({"criteria": [_("A scorecard needs at least one criterion.")]})
    seen: set[str] = set()
    for n, c in enumerate(criteria, start=1):
        where = _("criterion %(n)d (%(code)s)") % {"n": n, "code": c.code or "—"}
        if (
            not c.code
            or not c.code.replace("_", "").replace("-", "").isalnum()
            or not c.code.isascii()
        ):
            errors.append(
                _("%(where)s: the code must be letters, digits, - or _.") % {"where": where}
            )
        if c.code in seen:
            errors.append(_("%(where)s: the code is used twice.") % {"where": where})
        seen.add(c.code)
        if not c.label.strip() or not c.section.strip():
            errors.append(_("%(where)s: give a section and a label.") % {"where": where})
        if c.scale not in Scale.values:
            errors.append(
                _("%(where)s: unknown scale “%(scale)s”.") % {"where": where, "scale": c.scale}
            )
        if c.scale == Scale.POINTS and not 1 <= c.max_points <= MAX_POINTS:
            errors.append(
                _("%(where)s: maximum points must be 1–%(max)d.")
                % {"where": where, "max": MAX_POINTS}
            )
        if not 0 <= c.weight <= MAX_WEIGHT:
            errors.append(
                _("%(where)s: the weight must be 0–%(max)d.") % {"where": where, "max": MAX_WEIGHT}
            )
        if c.check and c.check not in checks.CHECK_CODES:
            errors.append(
                _("%(where)s: unknown automatic check “%(check)s”.")
                % {"where": where, "check": c.check}
            )
    if errors:
        raise ValidationError({"criteria": errors})
    return list(criteria)


def create_scorecard(
    name: str, criteria: Sequence[CriterionInput], *, actor: Any, description: str = ""
) -> Scorecard:
    require_perm(actor, "qa.configure")
    name = clean_text(name, field="name", max_length=80, required=True, single_line=True)
    if Scorecard.objects.filter(name=name).exists():
        raise ValidationError({"name": [_("A scorecard with this name exists.")]})
    cleaned = _clean_criteria(criteria)
    with transaction.atomic():
        card = Scorecard.objects.create(name=name, description=description)
        events.record("qa_scorecard_created", card, actor=actor, data={"name": name})
        _create_version(card, cleaned, actor=actor, note="")
    return card


def new_version(
    card: Scorecard, criteria: Sequence[CriterionInput], *, actor: Any, note: str = ""
) -> ScorecardVersion:
    """A new version of ``card``; earlier reviews keep the version they were scored on."""
    require_perm(actor, "qa.configure")
    cleaned = _clean_criteria(criteria)
    note = clean_text(note, field="note", max_length=200, single_line=True)
    with transaction.atomic():
        return _create_version(card, cleaned, actor=actor, note=note)


def _create_version(
    card: Scorecard, criteria: Sequence[CriterionInput], *, actor: Any, note: str
) -> ScorecardVersion:
    last = card.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = ScorecardVersion.objects.create(
        scorecard=card, number=last + 1, note=note, created_by=actor if actor and actor.pk else None
    )
    Criterion.objects.bulk_create(
        Criterion(
            version=version, section=c.section.strip(), code=c.code, label=c.label.strip(),
            guidance=c.guidance, scale=c.scale,
            max_points=1 if c.scale == Scale.YES_NO else c.max_points,
            weight=c.weight, critical=c.critical, auto_check=c.check, sort=n,
        )
        for n, c in enumerate(criteria)
    )  # fmt: skip
    events.record(
        "qa_scorecard_versioned", card, actor=actor,
        data={"version": version.number, "criteria": [c.code for c in criteria]},
    )  # fmt: skip
    return version


def specs(version: ScorecardVersion) -> list[scoring.CriterionSpec]:
    return [
        scoring.CriterionSpec(c.code, c.weight, c.max_points, c.critical)
        for c in version.criteria.all()
    ]


# ---- automatic checks --------------------------------------------------------------------------


def phrase_book() -> checks.PhraseBook:
    """The centre's phrase lists (Configuration → QA phrases); a list left empty keeps the
    defaults."""
    lists: dict[str, list[str]] = {}
    for kind, text in Phrase.objects.filter(is_active=True).values_list("kind", "text"):
        lists.setdefault(kind, []).append(text)
    defaults = checks.PhraseBook()
    return checks.PhraseBook(
        greetings=tuple(lists.get("greeting", ())) or defaults.greetings,
        closings=tuple(lists.get("closing", ())) or defaults.closings,
        forbidden=tuple(lists.get("forbidden", ())) or defaults.forbidden,
        positive=tuple(lists.get("positive", ())) or defaults.positive,
        negative=tuple(lists.get("negative", ())) or defaults.negative,
    )


def describe(finding: checks.Finding) -> str:
    if finding.passed is None:
        return _("Not applicable: nothing to check.")
    if finding.code in (checks.FIRST_RESPONSE, checks.REPLY_GAP):
        return _("%(s)d s") % {"s": round(finding.value or 0)}
    if finding.hits:
        return ", ".join(finding.hits)[:480]
    return _("Passed") if finding.passed else _("Not found")


def prefill(criterion: Criterion, finding: checks.Finding) -> int | None:
    """The answer an automatic finding suggests: full points when it passed, 0 when flagged,
    not applicable when the check does not apply."""
    if finding.passed is None:
        return None
    return criterion.max_points if finding.passed else 0


# ---- reviews -----------------------------------------------------------------------------------


def _interaction(user: Any, source: str, object_id: int) -> Interaction:
    found = get_source(source)
    if found is None:
        raise ValidationError({"source": [_("Unknown interaction kind “%(s)s”.") % {"s": source}]})
    return found.load(user, object_id)


def _open_review(
    version: ScorecardVersion, interaction: Interaction, *, inspector: Any, kind: str,
    run: SampleRun | None = None, reason: str = "", calibration: CalibrationSession | None = None,
) -> Review:  # fmt: skip
    from kefu.accounts.models import User

    if interaction.agent_id is None:
        raise ValidationError({"object_id": [_("This interaction has no agent to score.")]})
    agent = User.objects.get(pk=interaction.agent_id)
    review = Review.objects.create(
        version=version, kind=kind, source=interaction.source, object_id=interaction.object_id,
        channel=interaction.channel, occurred_at=interaction.occurred_at, agent=agent,
        team_id=interaction.team_id or agent.memberships.values_list("team_id", flat=True).first(),
        inspector=inspector, run=run, sample_reason=reason, calibration=calibration,
    )  # fmt: skip
    report = checks.run_checks(interaction.turns, phrase_book()) if interaction.turns else None
    answers = []
    for criterion in version.criteria.all():
        answer = Answer(review=review, criterion=criterion)
        if criterion.auto_check and report is not None:
            finding = report.get(criterion.auto_check)
            answer.auto_value = prefill(criterion, finding)
            answer.value = answer.auto_value
            answer.auto_note = describe(finding)
        answers.append(answer)
    Answer.objects.bulk_create(answers)
    return review


def start_review(actor: Any, source: str, object_id: int, version: ScorecardVersion) -> Review:
    """An inspector opens a review of one interaction; automatic checks pre-fill the criteria
    mapped to them."""
    require_perm(actor, "qa.review")
    interaction = _interaction(actor, source, object_id)
    with transaction.atomic():
        review = _open_review(version, interaction, inspector=actor, kind=Review.Kind.INTERNAL)
        events.record("qa_review_started", review, actor=actor,
                      data={"source": source, "object_id": object_id})  # fmt: skip
    return review


def take_review(review: Review, *, actor: Any) -> Review:
    """An inspector takes an unassigned review from the sample queue."""
    require_perm(actor, "qa.review")
    with transaction.atomic():
        taken = Review.objects.filter(pk=review.pk, inspector__isnull=True).update(inspector=actor)
        if not taken:
            if Review.objects.filter(pk=review.pk, inspector=actor).exists():
                return review
            raise ValidationError({"inspector": [_("Another inspector has taken this review.")]})
        review.inspector = actor
        events.record("qa_review_taken", review, actor=actor)
    return review


def _parse_answers(
    review: Review, answers: Mapping[int, tuple[int | None, str]]
) -> dict[int, tuple[int | None, str]]:
    criteria = {c.pk: c for c in review.version.criteria.all()}
    errors: list[str] = []
    for criterion_id, (value, comment) in answers.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            errors.append(_("Criterion %(id)s is not on this scorecard.") % {"id": criterion_id})
        elif value is not None and not 0 <= value <= criterion.max_points:
            errors.append(
                _("“%(label)s”: %(value)s is outside 0–%(max)d.")
                % {"label": criterion.label, "value": value, "max": criterion.max_points}
            )
        elif len(comment) > 500:
            errors.append(
                _("“%(label)s”: the comment is longer than 500 characters.")
                % {"label": criterion.label}
            )
    if errors:
        raise ValidationError({"answers": errors})
    return dict(answers)


def _rescore(review: Review) -> None:
    values = {a.criterion.code: a.value for a in review.answers.select_related("criterion")}
    result = scoring.score(specs(review.version), values)
    cents = Decimal("0.01")
    review.score = None if result.percent is None else Decimal(str(result.percent)).quantize(cents)
    review.raw_score = (
        None if result.raw_percent is None else Decimal(str(result.raw_percent)).quantize(cents)
    )
    review.failed_critical = bool(result.failed_critical)


def save_review(
    review: Review, answers: Mapping[int, tuple[int | None, str]], *, actor: Any,
    comment: str = "", submit: bool = False,
) -> Review:  # fmt: skip
    """Save an inspector's answers (``{criterion id: (points or None, comment)}``); ``submit``
    makes the score visible to the agent."""
    require_perm(actor, "qa.review")
    if review.state != Review.State.DRAFT:
        raise ValidationError({"state": [_("This review is already scored.")]})
    if review.inspector_id not in (None, actor.pk):
        raise PermissionDenied(_("Another inspector is scoring this review."))
    parsed = _parse_answers(review, answers)
    comment = clean_text(comment, field="comment", max_length=4000)
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if review.state != Review.State.DRAFT:
            raise ValidationError({"state": [_("This review is already scored.")]})
        for answer in review.answers.all():
            if answer.criterion_id in parsed:
                answer.value, answer.comment = parsed[answer.criterion_id]
                answer.save(update_fields=["value", "comment"])
        review.comment = comment
        review.inspector = actor
        _rescore(review)
        if submit:
            review.state = Review.State.SUBMITTED
            review.submitted_at = timezone.now()
        review.save()
        events.record(
            "qa_review_submitted" if submit else "qa_review_saved", review, actor=actor,
            data={"score": review.score, "failed_critical": review.failed_critical},
        )  # fmt: skip
    return review


def dispute_review(review: Review, reason: str, *, actor: Any) -> Dispute:
    """The agent disputes a scored review, once."""
    require_perm(actor, "qa.own")
    if review.agent_id != actor.pk:
        raise PermissionDenied(_("Only the agent who was reviewed can dispute it."))
    reason = clean_text(reason, field="reason", max_length=2000, required=True)
    if review.kind != Review.Kind.INTERNAL or review.state != Review.State.SUBMITTED:
        raise ValidationError({"state": [_("Only a scored inspection can be disputed.")]})
    if Dispute.objects.filter(review=review).exists():
        raise ValidationError({"state": [_("This review has already been disputed once.")]})
    with transaction.atomic():
        dispute = Dispute.objects.create(
            review=review, reason=reason, raised_by=actor, score_before=review.score
        )
        Review.objects.filter(pk=review.pk).update(state=Review.State.DISPUTED)
        review.state = Review.State.DISPUTED
        events.record("qa_review_disputed", review, actor=actor, data={"reason": reason})
    return dispute


def decide_dispute(
    review: Review, decision: str, *, actor: Any, note: str = "",
    answers: Mapping[int, tuple[int | None, str]] | None = None,
) -> Review:  # fmt: skip
    """A supervisor upholds the score or changes answers; either way the review is final."""
    require_perm(actor, "qa.decide")
    if decision not in Dispute.Decision.values:
        raise ValidationError({"decision": [_("Choose “upheld” or “changed”.")]})
    if review.state != Review.State.DISPUTED:
        raise ValidationError({"state": [_("This review has no open dispute.")]})
    note = clean_text(note, field="note", max_length=2000, required=True)
    parsed = _parse_answers(review, answers or {})
    if decision == Dispute.Decision.CHANGED and not parsed:
        raise ValidationError({"answers": [_("Give the changed answers.")]})
    with transaction.atomic():
        review = Review.objects.select_for_update().get(pk=review.pk)
        if decision == Dispute.Decision.CHANGED:
            for answer in review.answers.all():
                if answer.criterion_id in parsed:
                    answer.value, answer.comment = parsed[answer.criterion_id]
                    answer.save(update_fields=["value", "comment"])
            _rescore(review)
        review.state = Review.State.FINAL
        review.save()
        Dispute.objects.filter(review=review).update(
            decision=decision, note=note, decided_by=actor, decided_at=timezone.now(),
            score_after=review.score,
        )  # fmt: skip
        events.record("qa_dispute_decided", review, actor=actor,
                      data={"decision": decision, "score": review.score})  # fmt: skip
    return review


def record_external_review(
    *, actor: Any, version: ScorecardVersion, agent: Any, kind: str, evaluator: str,
    score: Decimal, occurred_at: dt.datetime, comment: str = "",
) -> Review:  # fmt: skip
    """A mystery-shopper or third-party evaluation, recorded as a final review."""
    require_perm(actor, "qa.review")
    errors: dict[str, list[str]] = {}
    if kind not in (Review.Kind.MYSTERY, Review.Kind.THIRD_PARTY):
        errors["kind"] = [_("Choose mystery shopper or third party.")]
    if not Decimal(0) <= score <= Decimal(100):
        errors["score"] = [_("The score must be 0–100.")]
    if timezone.is_naive(occurred_at):
        errors["occurred_at"] = [_("Give the time with its time zone.")]
    if errors:
        raise ValidationError(errors)
    evaluator = clean_text(
        evaluator, field="evaluator", max_length=120, required=True, single_line=True
    )
    comment = clean_text(comment, field="comment", max_length=4000)
    with transaction.atomic():
        review = Review.objects.create(
            version=version, kind=kind, state=Review.State.FINAL, occurred_at=occurred_at,
            agent=agent, team_id=agent.memberships.values_list("team_id", flat=True).first(),
            inspector=actor, evaluator=evaluator, score=score, raw_score=score, comment=comment,
            submitted_at=timezone.now(),
        )  # fmt: skip
        events.record("qa_external_recorded", review, actor=actor,
                      data={"kind": kind, "evaluator": evaluator, "score": score})  # fmt: skip
    return review


# ---- sampling ----------------------------------------------------------------------------------


def run_sample(
    plan: SamplingPlan, *, actor: Any, end: dt.datetime | None = None, seed: int | None = None
) -> SampleRun:
    """Draw the plan's sample for the period ending at ``end`` and open a review (unassigned)
    for each pick. Interactions already reviewed under this scorecard are left out. The seed is
    stored, so the same draw can be repeated."""
    require_perm(actor, "qa.review")
    end = end or timezone.now()
    if timezone.is_naive(end):
        raise ValidationError({"end": [_("Give the time with its time zone.")]})
    start = end - dt.timedelta(days=plan.period_days)
    seed = seed if seed is not None else secrets.randbelow(2**31)
    version = plan.scorecard.current_version()
    if version is None:
        raise ValidationError({"scorecard": [_("The plan's scorecard has no version.")]})
    done: frozenset[tuple[str, int]] = frozenset(
        (s, o) for s, o in Review.objects.filter(
            version__scorecard=plan.scorecard, object_id__isnull=False
        ).values_list("source", "object_id") if o is not None
    )  # fmt: skip
    rule = sampling.Rule(
        per_agent=plan.per_agent, all_complaints=plan.all_complaints,
        all_dissatisfied=plan.all_dissatisfied, channels=frozenset(plan.channels),
        type_codes=frozenset(plan.type_codes),
        team_ids=frozenset({plan.team_id}) if plan.team_id else frozenset(), exclude=done,
    )  # fmt: skip
    picks = sampling.draw(all_candidates(start, end), rule, seed)
    with transaction.atomic():
        run = SampleRun.objects.create(
            plan=plan, period_start=start, period_end=end, seed=seed, picked=len(picks),
            created_by=actor if actor and actor.pk else None,
        )  # fmt: skip
        for pick in picks:
            source = get_source(pick.candidate.kind)
            assert source is not None
            interaction = source.load(actor, pick.candidate.object_id)
            _open_review(version, interaction, inspector=None, kind=Review.Kind.INTERNAL,
                         run=run, reason=pick.reason)  # fmt: skip
        events.record("qa_sample_drawn", run, actor=actor,
                      data={"plan": plan.pk, "seed": seed, "picked": len(picks)})  # fmt: skip
    return run


# ---- calibration -------------------------------------------------------------------------------


def start_calibration(
    *, actor: Any, title: str, source: str, object_id: int, version: ScorecardVersion,
    inspectors: Sequence[Any],
) -> CalibrationSession:  # fmt: skip
    """Several inspectors score the same interaction; each gets a calibration sheet."""
    require_perm(actor, "qa.review")
    title = clean_text(title, field="title", max_length=120, required=True, single_line=True)
    from kefu.core.permissions import has_perm

    chosen = list({u.pk: u for u in inspectors}.values())
    if len(chosen) < 2:
        raise ValidationError({"inspectors": [_("Choose at least two inspectors.")]})
    wrong = [u.display_label for u in chosen if not has_perm(u, "qa.review")]
    if wrong:
        raise ValidationError(
            {"inspectors": [_("Not inspectors: %(names)s") % {"names": ", ".join(wrong)}]}
        )
    interaction = _interaction(actor, source, object_id)
    with transaction.atomic():
        session = CalibrationSession.objects.create(
            title=title, version=version, source=source, object_id=object_id,
            agent_id=interaction.agent_id, created_by=actor,
        )  # fmt: skip
        for inspector in chosen:
            _open_review(version, interaction, inspector=inspector,
                         kind=Review.Kind.CALIBRATION, calibration=session)  # fmt: skip
        events.record("qa_calibration_started", session, actor=actor,
                      data={"inspectors": [u.pk for u in chosen]})  # fmt: skip
    return session


# ---- coaching ----------------------------------------------------------------------------------


def create_coaching(
    review: Review, *, actor: Any, excerpt: str, expected: str,
    criterion_id: int | None = None, due_on: dt.date | None = None,
) -> CoachingTask:  # fmt: skip
    require_perm(actor, "qa.review")
    errors: dict[str, list[str]] = {}
    try:
        excerpt = clean_text(excerpt, field="excerpt", max_length=2000, required=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        expected = clean_text(expected, field="expected", max_length=2000, required=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if criterion_id is not None and not review.version.criteria.filter(pk=criterion_id).exists():
        errors["criterion"] = [_("This criterion is not on the review's scorecard.")]
    if review.kind == Review.Kind.CALIBRATION or review.state == Review.State.DRAFT:
        errors["review"] = [_("Coach from a scored inspection.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        task = CoachingTask.objects.create(
            review=review, agent_id=review.agent_id, criterion_id=criterion_id, excerpt=excerpt,
            expected=expected, due_on=due_on, created_by=actor,
        )  # fmt: skip
        events.record("qa_coaching_created", task, actor=actor,
                      data={"review": review.pk, "agent": review.agent_id})  # fmt: skip
    return task


def complete_coaching(task: CoachingTask, *, actor: Any, note: str = "") -> CoachingTask:
    if task.agent_id != actor.pk:
        raise PermissionDenied(_("Only the coached agent can complete this task."))
    if task.completed_at is not None:
        raise ValidationError({"state": [_("This coaching task is already completed.")]})
    note = clean_text(note, field="note", max_length=2000)
    with transaction.atomic():
        task.completed_at = timezone.now()
        task.agent_note = note
        task.save(update_fields=["completed_at", "agent_note"])
        events.record("qa_coaching_completed", task, actor=actor)
    return task
