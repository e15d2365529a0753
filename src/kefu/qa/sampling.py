"""Drawing a QA sample (抽检): a pure, seeded function over candidate interactions.

* **Reproducible:** the same candidates, rule and seed give the same sample, whatever order the
  candidates come in (they are sorted by key first) — each agent's draw uses its own
  ``random.Random`` seeded with ``"<seed>:<agent>"``, so adding an agent to a plan does not
  change the others' picks.
* **Fair:** every agent gets ``per_agent`` interactions, or all they have when they have fewer.
* **Stratified:** within an agent, picks go round the strata (channel by default) in turn, so
  an agent who takes calls and e-mails is sampled on both.
* **Must-review rules:** every complaint and every interaction the customer rated dissatisfied
  can be included on top of the quota.

No Django here.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

QUOTA = "quota"
COMPLAINT = "complaint"
DISSATISFIED = "dissatisfied"


@dataclass(frozen=True)
class Candidate:
    kind: str  # the interaction source: "ticket", "call", "email", ...
    object_id: int
    agent_id: int | None
    occurred_at: dt.datetime
    channel: str = ""
    team_id: int | None = None
    type_code: str = ""
    complaint: bool = False
    dissatisfied: bool = False

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.object_id)


@dataclass(frozen=True)
class Rule:
    per_agent: int = 5
    all_complaints: bool = False
    all_dissatisfied: bool = False
    channels: frozenset[str] = frozenset()
    team_ids: frozenset[int] = frozenset()
    agent_ids: frozenset[int] = frozenset()
    type_codes: frozenset[str] = frozenset()
    stratify_by: str = "channel"  # a Candidate attribute, or "" for none
    exclude: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def admits(self, c: Candidate) -> bool:
        return (
            c.agent_id is not None
            and c.key not in self.exclude
            and (not self.channels or c.channel in self.channels)
            and (not self.team_ids or c.team_id in self.team_ids)
            and (not self.agent_ids or c.agent_id in self.agent_ids)
            and (not self.type_codes or c.type_code in self.type_codes)
        )


@dataclass(frozen=True)
class Pick:
    candidate: Candidate
    reason: str  # QUOTA, COMPLAINT or DISSATISFIED


def draw(candidates: Iterable[Candidate], rule: Rule, seed: int | str) -> list[Pick]:
    """The sample: must-review picks first, then each agent's quota; ordered by agent, then by
    the order drawn."""
    if rule.per_agent < 0:
        raise ValueError("per_agent must be 0 or more")
    by_agent: dict[int, list[Candidate]] = defaultdict(list)
    for c in sorted({c.key: c for c in candidates}.values(), key=lambda c: c.key):
        if rule.admits(c):
            by_agent[c.agent_id].append(c)  # type: ignore[index]
    picks: list[Pick] = []
    for agent_id in sorted(by_agent):
        pool = by_agent[agent_id]
        taken: set[tuple[str, int]] = set()
        for c in pool:
            reason = (
                COMPLAINT if rule.all_complaints and c.complaint
                else DISSATISFIED if rule.all_dissatisfied and c.dissatisfied
                else ""
            )  # fmt: skip
            if reason:
                picks.append(Pick(c, reason))
                taken.add(c.key)
        rest = [c for c in pool if c.key not in taken]
        rng = random.Random(f"{seed}:{agent_id}")  # noqa: S311 - a reproducible sample, not a secret
        picks.extend(Pick(c, QUOTA) for c in _stratified(rest, rule, rng))
    return picks


def _stratified(pool: Sequence[Candidate], rule: Rule, rng: random.Random) -> list[Candidate]:
    strata: dict[str, list[Candidate]] = defaultdict(list)
    for c in pool:
        strata[str(getattr(c, rule.stratify_by)) if rule.stratify_by else ""].append(c)
    order = sorted(strata)
    for name in order:
        rng.shuffle(strata[name])
    chosen: list[Candidate] = []
    while len(chosen) < rule.per_agent and any(strata[name] for name in order):
        for name in order:
            if strata[name] and len(chosen) < rule.per_agent:
                chosen.append(strata[name].pop())
    return chosen
