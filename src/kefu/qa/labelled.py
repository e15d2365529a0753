"""Reading a labelled set of interactions and scoring the automatic checks against it.

The format is described in ``bench/data/qa/README.md``. No Django: ``kefu bench qa-checks`` and
the tests both use this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kefu.qa import checks

FLAG_CHECKS = {
    "no-greeting": checks.GREETING,
    "no-closing": checks.CLOSING,
    "unanswered": checks.UNANSWERED,
    "sentiment": checks.SENTIMENT,
}
TEXT_CHECKS: tuple[str, ...] = (
    checks.GREETING,
    checks.CLOSING,
    checks.FORBIDDEN,
    checks.UNANSWERED,
    checks.SENTIMENT,
)


class LabelError(ValueError):
    """A line of a labelled file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Labelled:
    key: str
    channel: str
    expected: frozenset[str]  # check codes that should flag
    forbidden: frozenset[str]  # forbidden words that should be found
    turns: tuple[checks.Turn, ...]
    source: str = ""

    @property
    def language(self) -> str:
        return self.key.split("-", 1)[0]


def parse(path: Path) -> list[Labelled]:
    """The interactions in ``path``; a malformed line raises :class:`LabelError`."""
    items: list[Labelled] = []
    header: tuple[str, str, set[str], set[str], int] | None = None
    turns: list[checks.Turn] = []
    seen: set[str] = set()

    def close() -> None:
        if header is None:
            return
        key, channel, expected, forbidden, line_no = header
        if not turns:
            raise LabelError(f"{path}:{line_no}: interaction {key} has no turns")
        items.append(
            Labelled(key, channel, frozenset(expected), frozenset(forbidden), tuple(turns),
                     f"{path.name}:{line_no}")
        )  # fmt: skip

    for line_no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("==="):
            close()
            turns = []
            parts = [p.strip() for p in line[3:].split("|")]
            if len(parts) != 3 or not parts[0] or not parts[1]:
                raise LabelError(f"{path}:{line_no}: expected '=== id | channel | flags'")
            key, channel, flag_text = parts
            if key in seen:
                raise LabelError(f"{path}:{line_no}: duplicate id {key}")
            seen.add(key)
            expected: set[str] = set()
            forbidden: set[str] = set()
            for flag in flag_text.split():
                if flag == "-":
                    continue
                if flag.startswith("forbidden:"):
                    forbidden.add(checks.fold(flag.removeprefix("forbidden:").replace("_", " ")))
                    expected.add(checks.FORBIDDEN)
                elif flag in FLAG_CHECKS:
                    expected.add(FLAG_CHECKS[flag])
                else:
                    raise LabelError(f"{path}:{line_no}: unknown flag {flag!r}")
            header = (key, channel, expected, forbidden, line_no)
        elif line[:2] in ("C:", "A:"):
            if header is None:
                raise LabelError(f"{path}:{line_no}: a turn before the first '===' header")
            speaker: checks.Speaker = "customer" if line[0] == "C" else "agent"
            turns.append(checks.Turn(speaker, line[2:].strip()))
        else:
            raise LabelError(f"{path}:{line_no}: a line must start with '===', 'C:' or 'A:'")
    close()
    return items


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, *, expected: bool, flagged: bool, key: str) -> None:
        if expected and flagged:
            self.tp += 1
        elif flagged:
            self.fp += 1
            self.misses.append(f"{key} (false alarm)")
        elif expected:
            self.fn += 1
            self.misses.append(f"{key} (missed)")


def evaluate(items: Iterable[Labelled], book: checks.PhraseBook | None = None) -> dict[str, Tally]:
    """Per check: interactions flagged when they should be (tp), flagged wrongly (fp), missed
    (fn). ``forbidden_words`` counts words, not interactions; ``overall`` sums the checks."""
    book = book or checks.PhraseBook()
    tallies = {code: Tally() for code in TEXT_CHECKS}
    words = Tally()
    for item in items:
        report = checks.run_checks(item.turns, book, TEXT_CHECKS)
        for code in TEXT_CHECKS:
            finding = report.get(code)
            tallies[code].add(
                expected=code in item.expected, flagged=finding.passed is False, key=item.key
            )
        found = {checks.fold(h) for h in report.get(checks.FORBIDDEN).hits}
        for word in sorted(found | item.forbidden):
            words.add(expected=word in item.forbidden, flagged=word in found,
                      key=f"{item.key}:{word}")  # fmt: skip
    overall = Tally()
    for tally in tallies.values():
        overall.tp += tally.tp
        overall.fp += tally.fp
        overall.fn += tally.fn
    return {**tallies, "forbidden_words": words, "overall": overall}


def load_dir(folder: Path, names: Sequence[str] = ("zh.txt", "en.txt")) -> list[Labelled]:
    items: list[Labelled] = []
    for name in names:
        items.extend(parse(folder / name))
    return items
