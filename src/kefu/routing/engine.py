"""Routing decisions as pure functions: which waiting item comes next, and which agent takes it.

No Django here. The services load the facts (items, agents, loads), ask this module, and write
the answer with the guards that keep concurrent dispatchers honest.

**Order of service.** An item's urgency is the time it has waited plus its bonus (the
customer's VIP tier, in seconds). Serving the most urgent first is the same as serving in
order of ``rank = arrived - bonus``, a value that never changes while the item waits, so it is
stored and indexed. A VIP therefore overtakes at most ``bonus`` seconds' worth of arrivals, and
an item that arrived at ``t`` is served before anything that arrives after ``t + max bonus``:
no one waits for ever while the centre keeps up with its load.

**Choice of agent**, per queue strategy, among the agents who may take the item (serving the
queue, all must-have skills, the language, room left on the channel, and not having declined
it already):

- ``round_robin``: the one who was offered work longest ago;
- ``least_loaded``: the one with the smallest share of their capacity in use;
- ``skills``: the one with the most preferred skills, then the least loaded;
- ``sticky``: the customer's last agent if they can take it, otherwise the least loaded;
- ``manual``: nobody; agents or supervisors pick from the list.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

STRATEGIES = ("manual", "round_robin", "least_loaded", "skills", "sticky")


def rank(arrived: float, bonus: float) -> float:
    """The sort key of a waiting item (seconds since the epoch): smaller is served first."""
    return arrived - max(bonus, 0.0)


def urgency(arrived: float, bonus: float, now: float) -> float:
    """Waiting time plus bonus, in seconds."""
    return (now - arrived) + max(bonus, 0.0)


@dataclass(frozen=True)
class Item:
    id: int
    channel: str
    required_skills: frozenset[str] = frozenset()
    preferred_skills: frozenset[str] = frozenset()
    language: str = ""
    sticky_agent: int | None = None
    declined_by: frozenset[int] = frozenset()


@dataclass
class Agent:
    id: int
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    capacity: dict[str, int] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)
    last_offered: float = 0.0

    def room(self, channel: str) -> int:
        return self.capacity.get(channel, 0) - self.load.get(channel, 0)

    def share(self, channel: str) -> float:
        capacity = self.capacity.get(channel, 0)
        return self.load.get(channel, 0) / capacity if capacity else 1.0


def eligible(item: Item, agents: Iterable[Agent]) -> list[Agent]:
    """Agents who could take the item now."""
    return [
        a
        for a in agents
        if a.room(item.channel) > 0
        and item.required_skills <= a.skills
        and (not item.language or item.language in a.languages)
        and a.id not in item.declined_by
    ]


def _least_loaded_key(item: Item, agent: Agent) -> tuple[float, float, int]:
    return (agent.share(item.channel), agent.last_offered, agent.id)


def choose(strategy: str, item: Item, agents: Sequence[Agent]) -> Agent | None:
    """The agent the strategy gives the item to, or None (nobody can, or the queue is manual)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown routing strategy {strategy!r}")
    if strategy == "manual":
        return None
    candidates = eligible(item, agents)
    if not candidates:
        return None
    if strategy == "round_robin":
        return min(candidates, key=lambda a: (a.last_offered, a.id))
    if strategy == "skills":
        return min(
            candidates,
            key=lambda a: (-len(item.preferred_skills & a.skills), *_least_loaded_key(item, a)),
        )
    if strategy == "sticky" and item.sticky_agent is not None:
        for agent in candidates:
            if agent.id == item.sticky_agent:
                return agent
    return min(candidates, key=lambda a: _least_loaded_key(item, a))


def take(agent: Agent, channel: str, now: float) -> None:
    """Book one unit of the agent's capacity in the in-memory picture."""
    agent.load[channel] = agent.load.get(channel, 0) + 1
    agent.last_offered = now


class Pool:
    """The agents of one dispatch run, grouped by what they can do (skills and languages), with
    one heap per group and channel in the strategy's order. A choice looks at the head of each
    group that qualifies instead of at every agent: a centre has a thousand agents but a few
    dozen combinations of skills."""

    def __init__(self, strategy: str, agents: Iterable[Agent]) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown routing strategy {strategy!r}")
        self.strategy = strategy
        self.agents = {a.id: a for a in agents}
        self.version = dict.fromkeys(self.agents, 0)
        self.groups: dict[tuple[frozenset[str], frozenset[str]], list[int]] = {}
        for agent in self.agents.values():
            self.groups.setdefault((agent.skills, agent.languages), []).append(agent.id)
        self.heaps: dict[tuple[tuple[frozenset[str], frozenset[str]], str], list[Any]] = {}

    def _key(self, agent: Agent, channel: str) -> tuple[float, float, int]:
        if self.strategy == "round_robin":
            return (agent.last_offered, 0.0, agent.id)
        return (agent.share(channel), agent.last_offered, agent.id)

    def _heap(self, group: tuple[frozenset[str], frozenset[str]], channel: str) -> list[Any]:
        heap = self.heaps.get((group, channel))
        if heap is None:
            heap = [
                (self._key(self.agents[i], channel), self.version[i], i)
                for i in self.groups[group]
                if self.agents[i].room(channel) > 0
            ]
            heapq.heapify(heap)
            self.heaps[(group, channel)] = heap
        return heap

    def _head(self, group: tuple[frozenset[str], frozenset[str]], item: Item) -> Agent | None:
        """The group's best agent for the item (stale and full entries are dropped)."""
        heap = self._heap(group, item.channel)
        skipped = []
        found = None
        while heap:
            _key, version, agent_id = heap[0]
            agent = self.agents[agent_id]
            if version != self.version[agent_id] or agent.room(item.channel) <= 0:
                heapq.heappop(heap)
                continue
            if agent_id in item.declined_by:
                skipped.append(heapq.heappop(heap))
                continue
            found = agent
            break
        for entry in skipped:
            heapq.heappush(heap, entry)
        return found

    def room(self) -> bool:
        return any(a.room(c) > 0 for a in self.agents.values() for c in a.capacity)

    def choose(self, item: Item) -> Agent | None:
        if self.strategy == "manual":
            return None
        if self.strategy == "sticky" and item.sticky_agent in self.agents:
            agent = self.agents[item.sticky_agent]
            if eligible(item, [agent]):
                return agent
        best: tuple[Any, ...] | None = None
        chosen = None
        for group in self.groups:
            skills, languages = group
            if not item.required_skills <= skills:
                continue
            if item.language and item.language not in languages:
                continue
            head = self._head(group, item)
            if head is None:
                continue
            key: tuple[Any, ...] = self._key(head, item.channel)
            if self.strategy == "skills":
                key = (-len(item.preferred_skills & skills), *key)
            if best is None or key < best:
                best, chosen = key, head
        return chosen

    def take(self, agent: Agent, channel: str, now: float) -> None:
        take(agent, channel, now)
        self._moved(agent)

    def full(self, agent: Agent, channel: str) -> None:
        """The agent turned out to have no room on the channel after all."""
        agent.load[channel] = agent.capacity.get(channel, 0)
        self._moved(agent)

    def _moved(self, agent: Agent) -> None:
        """The agent's key changed: older heap entries go stale, a fresh one goes in each heap
        of their group where they still have room."""
        self.version[agent.id] += 1
        group = (agent.skills, agent.languages)
        for (g, c), heap in self.heaps.items():
            if g == group and agent.room(c) > 0:
                heapq.heappush(heap, (self._key(agent, c), self.version[agent.id], agent.id))

    def busy(self, agent: Agent) -> None:
        """On the phone now: nothing more for this agent in this run."""
        agent.capacity = {}
        self.version[agent.id] += 1
