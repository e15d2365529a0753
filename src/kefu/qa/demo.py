"""Demo quality inspection: the hotline scorecard, a weekly sampling plan and its first sample,
scored reviews (one disputed and decided, one with coaching), a calibration session and a
mystery-shopper evaluation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kefu.core.demo import DemoContext, seeder
from kefu.qa import services
from kefu.qa.defaults import HOTLINE_SCORECARD, hotline_criteria
from kefu.qa.models import Review, SamplingPlan, Scorecard


@seeder(95)
def seed_qa(ctx: DemoContext) -> None:
    admin, qa, supervisor = ctx.data.get("admin"), ctx.data.get("qa"), ctx.data.get("supervisor")
    if admin is None or qa is None or supervisor is None or Scorecard.objects.exists():
        return
    card = services.create_scorecard(HOTLINE_SCORECARD, hotline_criteria(), actor=admin,
                                     description="服务用语、响应、业务、合规与客户感受。")  # fmt: skip
    plan = SamplingPlan.objects.create(
        name="每周每人 3 单", scorecard=card, per_agent=3, period_days=7,
        all_complaints=True, all_dissatisfied=True,
    )  # fmt: skip
    run = services.run_sample(plan, actor=qa, end=ctx.now, seed=20261123)
    reviews = list(run.reviews.select_related("agent").order_by("id"))
    scored: list[Review] = []
    for n, review in enumerate(reviews[:20]):
        answers = {}
        for answer in review.answers.select_related("criterion"):
            c = answer.criterion
            value = answer.value if c.auto_check else c.max_points
            if c.code == "accuracy":
                value = (3, 4, 5)[n % 3]
            answers[c.pk] = (value, "")
        comment = "开头语规范，业务解答准确。" if n % 2 else "请注意结束语与问题的完整解答。"
        scored.append(services.save_review(review, answers, actor=qa, comment=comment, submit=True))
    if scored:
        first = scored[0]
        services.create_coaching(
            first, actor=qa, excerpt="（客户追问的第二个问题未作答）",
            expected="逐条确认客户的问题，结束前询问“请问还有什么可以帮您？”",
            due_on=(ctx.now + dt.timedelta(days=7)).date(),
        )  # fmt: skip
    if len(scored) > 1:
        disputed = scored[1]
        services.dispute_review(disputed, "客户的第二个问题我在电话里已经回答了，转写没有记录。",
                                actor=disputed.agent)  # fmt: skip
        services.decide_dispute(
            disputed, "upheld", actor=supervisor, note="转写与录音一致，维持评分。"
        )
    last = reviews[-1] if reviews else None
    if last is not None and last.source and last.object_id is not None:
        services.start_calibration(actor=qa, title="校准：" + str(last), source=last.source,
                                   object_id=int(last.object_id), version=last.version,
                                   inspectors=[qa, supervisor])  # fmt: skip
    agents = ctx.data.get("agents") or []
    if agents:
        version = card.current_version()
        assert version is not None
        services.record_external_review(
            actor=qa, version=version, agent=agents[0], kind=Review.Kind.MYSTERY,
            evaluator="第三方神秘客户调查", score=Decimal("88.5"),
            occurred_at=ctx.now - dt.timedelta(days=3), comment="电话接通快，语气亲切。",
        )  # fmt: skip
