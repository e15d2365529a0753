"""kefu bench qa-checks — precision and recall of the automatic QA checks on a labelled set.

The set (bench/data/qa/, described in its README) holds 155 short Chinese and English service
conversations — hotline transcripts, chats, e-mails — each labelled with the checks a quality
inspector expects to fire: a missing standard greeting or closing (标准服务用语), the forbidden
words used, a customer question left unanswered, a customer who ends unhappy. Every conversation
runs through ``kefu.qa.checks.run_checks`` with the default phrase book; the bench prints, per
check and language, true and false alarms and misses, precision and recall, then the throughput
of the checks over the set repeated (``--scale`` sets how many times; 1 = 200 passes).

The phrase lists and the sentiment lexicon were written alongside this set, so the figures
describe how well the lists cover these conversations, not a held-out estimate. Ends with a JSON
line.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench._harness import emit, say

DATA = Path(__file__).resolve().parent / "data" / "qa"


def main(scale: float = 1.0, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench qa-checks")
    parser.add_argument("--misses", action="store_true", help="list every miss and false alarm")
    args = parser.parse_args(argv or [])

    from kefu.qa import checks, labelled

    items = labelled.load_dir(DATA)
    languages = sorted({item.language for item in items})
    say(f"labelled set: {len(items)} interactions "
        + ", ".join(f"{lang} {sum(1 for i in items if i.language == lang)}" for lang in languages))  # fmt: skip
    result: dict[str, object] = {"bench": "qa-checks", "interactions": len(items)}
    for scope, subset in [("all", items)] + [(lang, [i for i in items if i.language == lang]) for lang in languages]:  # fmt: skip
        tallies = labelled.evaluate(subset)
        say(f"\n[{scope}] {'check':<16} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>10} {'recall':>7} {'F1':>6}")  # fmt: skip
        for code, tally in tallies.items():
            say(f"[{scope}] {code:<16} {tally.tp:>4} {tally.fp:>4} {tally.fn:>4} "
                f"{tally.precision:>10.3f} {tally.recall:>7.3f} {tally.f1:>6.3f}")  # fmt: skip
            if args.misses and tally.misses and code != "overall":
                say(f"         {', '.join(tally.misses)}")
        if scope == "all":
            result["checks"] = {
                code: {"precision": round(t.precision, 3), "recall": round(t.recall, 3),
                       "tp": t.tp, "fp": t.fp, "fn": t.fn}
                for code, t in tallies.items() if code != "overall"
            }  # fmt: skip
            result["precision"] = round(tallies["overall"].precision, 3)
            result["recall"] = round(tallies["overall"].recall, 3)
        else:
            result[f"{scope}_precision"] = round(tallies["overall"].precision, 3)
            result[f"{scope}_recall"] = round(tallies["overall"].recall, 3)

    passes = max(1, round(200 * scale))
    book = checks.PhraseBook()
    started = time.perf_counter()
    for _ in range(passes):
        for item in items:
            checks.run_checks(item.turns, book)
    elapsed = time.perf_counter() - started
    per_s = passes * len(items) / elapsed
    say(f"\nthroughput: {passes} passes × {len(items)} = {passes * len(items)} interactions "
        f"in {elapsed:.2f} s, {per_s:,.0f} interactions/s (all seven checks, one core)")  # fmt: skip
    result["interactions_per_s"] = round(per_s)
    emit(result)
    return 0
