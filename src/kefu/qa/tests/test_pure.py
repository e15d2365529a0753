"""The pure parts: automatic checks, sampling and scoring, against known answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kefu.qa import checks, labelled, sampling, scoring
from kefu.qa.checks import Turn

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
BENCH_DATA = Path(__file__).resolve().parents[4] / "bench" / "data" / "qa"


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_greeting_closing_and_forbidden_words_are_found_in_chinese_and_english() -> None:
    # given
    turns = [
        Turn("customer", "你好，停电了"),
        Turn("agent", "您好，很高兴为您服务。"),
        Turn("customer", "什么时候来电？"),
        Turn("agent", "我也不知道，这是规定。Whatever."),
        Turn("agent", "感谢您的来电，再见。"),
    ]
    # when
    report = checks.run_checks(turns)
    # then
    assert report.get(checks.GREETING).passed is True
    assert report.get(checks.GREETING).hits == ("很高兴为您服务", "您好")
    assert report.get(checks.CLOSING).hits == ("感谢您的来电", "再见")
    assert report.get(checks.FORBIDDEN).passed is False
    assert report.get(checks.FORBIDDEN).hits == ("whatever", "这是规定", "不知道")
    assert report.flagged == (checks.FORBIDDEN,)


def test_english_words_match_whole_words_only() -> None:
    assert checks.find_terms("Whatevers happen", ["whatever"]) == []
    assert checks.find_terms("ＷＨＡＴＥＶＥＲ!", ["whatever"]) == ["whatever"]
    assert checks.find_terms("我很不满意", ["满意", "不满意"]) == ["不满意"]


def test_response_times_are_measured_from_the_first_waiting_customer_turn() -> None:
    # given: the customer writes twice, the agent answers 90 s after the first, later 400 s
    turns = [
        Turn("customer", "hello?", at(0)),
        Turn("customer", "anyone there?", at(30)),
        Turn("agent", "Hello, thank you for contacting us.", at(90)),
        Turn("customer", "my bill is wrong", at(100)),
        Turn("agent", "Let me check.", at(500)),
    ]
    # when
    report = checks.run_checks(turns)
    # then
    assert checks.response_gaps(turns) == [90.0, 400.0]
    assert report.get(checks.FIRST_RESPONSE) == checks.Finding(
        checks.FIRST_RESPONSE, False, value=90.0
    )
    assert report.get(checks.REPLY_GAP) == checks.Finding(checks.REPLY_GAP, False, value=400.0)
    quick = checks.PhraseBook(first_response_s=90, reply_gap_s=400)
    assert checks.run_checks(turns, quick).flagged == (checks.CLOSING,)


def test_a_second_question_left_open_is_unanswered() -> None:
    turns = [
        Turn("customer", "电费怎么交？发票能开吗？"),
        Turn("agent", "您可以通过网上国网缴纳电费。"),
    ]
    assert checks.unanswered_questions(turns) == ["发票能开吗?"]
    assert checks.unanswered_questions(turns[:1]) == ["电费怎么交?", "发票能开吗?"]


def test_sentiment_trend_is_lexicon_based() -> None:
    book = checks.PhraseBook()
    turns = [
        Turn("customer", "好的，谢谢"),
        Turn("agent", "您好"),
        Turn("customer", "又停电了，太慢了，我很不满意"),
    ]
    assert checks.sentiment_trend(turns, book) == [2, -3]
    assert checks.check_sentiment(turns, book) == checks.Finding(
        checks.SENTIMENT, False, value=-5.0
    )
    assert checks.polarity("not helpful at all", book) == -1


def test_no_agent_turn_means_the_agent_checks_do_not_apply() -> None:
    report = checks.run_checks([Turn("customer", "hello")])
    assert report.get(checks.GREETING).passed is None
    assert report.get(checks.FORBIDDEN).passed is None


def test_the_labelled_set_reads_and_the_checks_keep_their_figures() -> None:
    # given
    items = labelled.load_dir(BENCH_DATA)
    # when
    tallies = labelled.evaluate(items)
    # then: 155 interactions; the figures docs/qa.md quotes
    assert len(items) == 155
    assert (tallies["overall"].tp, tallies["overall"].fp, tallies["overall"].fn) == (115, 7, 10)
    assert (tallies["forbidden_words"].tp, tallies["forbidden_words"].fn) == (33, 1)


def test_a_malformed_labelled_file_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("=== x-1 | chat | -\nC: hi\nB: oops\n", encoding="utf-8")
    with pytest.raises(labelled.LabelError, match=r"bad.txt:3: a line must start"):
        labelled.parse(bad)
    bad.write_text("=== x-1 | chat | loud\nC: hi\n", encoding="utf-8")
    with pytest.raises(labelled.LabelError, match=r"bad.txt:1: unknown flag 'loud'"):
        labelled.parse(bad)


def _pool() -> list[sampling.Candidate]:
    pool = []
    for agent in (1, 2, 3):
        for n in range(agent * 4):  # agent 1 has 4, agent 2 has 8, agent 3 has 12
            pool.append(
                sampling.Candidate(
                    "call" if n % 2 else "email",
                    agent * 100 + n,
                    agent,
                    at(n * 60),
                    channel="phone" if n % 2 else "email",
                    complaint=(agent == 3 and n == 0),
                )
            )
    return pool


def test_sampling_is_reproducible_and_independent_of_input_order() -> None:
    rule = sampling.Rule(per_agent=5)
    first = sampling.draw(_pool(), rule, seed=42)
    again = sampling.draw(list(reversed(_pool())), rule, seed=42)
    other = sampling.draw(_pool(), rule, seed=43)
    assert [p.candidate.key for p in first] == [p.candidate.key for p in again]
    assert [p.candidate.key for p in first] != [p.candidate.key for p in other]


def test_every_agent_gets_the_quota_when_enough_exist_and_all_they_have_otherwise() -> None:
    picks = sampling.draw(_pool(), sampling.Rule(per_agent=5, all_complaints=True), seed=7)
    counts = {a: sum(1 for p in picks if p.candidate.agent_id == a and p.reason == "quota")
              for a in (1, 2, 3)}  # fmt: skip
    assert counts == {1: 4, 2: 5, 3: 5}
    assert [p.candidate.key for p in picks if p.reason == "complaint"] == [("email", 300)]
    assert len({p.candidate.key for p in picks}) == len(picks)


def test_quota_picks_alternate_between_channels() -> None:
    picks = sampling.draw(_pool(), sampling.Rule(per_agent=4), seed=1)
    agent2 = [p.candidate.channel for p in picks if p.candidate.agent_id == 2]
    assert agent2 == ["email", "phone", "email", "phone"]


def test_adding_an_agent_does_not_change_the_others_picks() -> None:
    rule = sampling.Rule(per_agent=3)
    before = sampling.draw([c for c in _pool() if c.agent_id != 3], rule, seed=9)
    after = sampling.draw(_pool(), rule, seed=9)
    assert [p.candidate.key for p in before] == [
        p.candidate.key for p in after if p.candidate.agent_id != 3
    ]


def test_filters_restrict_the_pool() -> None:
    rule = sampling.Rule(per_agent=10, channels=frozenset({"phone"}), agent_ids=frozenset({2}))
    picks = sampling.draw(_pool(), rule, seed=3)
    assert sorted(p.candidate.object_id for p in picks) == [201, 203, 205, 207]


SPECS = [
    scoring.CriterionSpec("greeting", 10),
    scoring.CriterionSpec("skill", 30, max_points=5),
    scoring.CriterionSpec("privacy", 20, critical=True),
]


def test_score_is_the_weighted_share_over_applicable_criteria() -> None:
    assert scoring.score(SPECS, {"greeting": 1, "skill": 3, "privacy": 1}) == scoring.Score(
        80.0, (), 80.0
    )  # (10 + 18 + 20) / 60
    assert scoring.score(SPECS, {"greeting": None, "skill": 5, "privacy": None}).percent == 100.0
    assert scoring.score(SPECS, {"greeting": None}).percent is None


def test_a_failed_critical_item_zeroes_the_review() -> None:
    result = scoring.score(SPECS, {"greeting": 1, "skill": 5, "privacy": 0})
    assert result == scoring.Score(0.0, ("privacy",), 66.67)
    with pytest.raises(ValueError, match="skill: 6 is outside 0–5"):
        scoring.score(SPECS, {"skill": 6})


def test_spread_and_agreement_have_known_values() -> None:
    s = scoring.spread([80.0, 90.0, 100.0])
    assert s == scoring.Spread(3, 90.0, 8.16, 80.0, 100.0)
    assert s is not None and s.range == 20.0
    sheets = [{"a": 1, "b": 3}, {"a": 1, "b": 4}, {"a": 0, "b": 3}]
    assert scoring.pairwise_agreement(sheets) == round(2 / 6, 4)
    assert scoring.pairwise_agreement(sheets[:1]) is None
