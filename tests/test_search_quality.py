"""Search quality holds its level on both labelled sets — the demo's, and the larger set of
work orders written like real centres' records (bench/data/search_eval) — and stays above a
plain character-bigram BM25 on the same records; the baseline itself is checked against known
answers."""

import pytest
from bench.search_quality import (
    BigramBM25,
    bigrams,
    evaluate,
    evaluate_eval,
    grades,
    index_eval,
    load_eval,
    load_queries,
    supervisor,
)

from kefu.core.demo import seed_demo

pytestmark = [pytest.mark.django_db]


@pytest.mark.slow
def test_every_label_names_demo_records_and_ranking_holds_its_level():
    seed_demo()
    queries = load_queries()
    assert len(queries) >= 50
    assert any(q["q"].isascii() for q in queries) and any(not q["q"].isascii() for q in queries)
    result = evaluate(verbose=False)
    assert result["unresolved"] == []
    # measured: SQLite 0.823 / 0.804, PostgreSQL 0.882 / 0.813 (before the demo gained field
    # service, plans, incidents and chat records: 0.854 / 0.852 and 0.846 / 0.836)
    assert result["recall_at_10"] >= 0.8
    assert result["ndcg_at_10"] >= 0.8


def test_the_labelled_set_is_large_varied_and_every_query_has_answers():
    records, queries = load_eval()
    assert len(records) >= 600 and len(queries) >= 80
    assert len({r["id"] for r in records}) == len(records)
    assert sum(r["lang"] == "en" for r in records) >= 30
    kinds = {q["kind"] for q in queries}
    assert {"plain", "typo", "partial", "compound", "english", "phone"} <= kinds
    for query in queries:
        graded = grades(query["rules"], records)
        assert graded, query["q"]
        assert set(graded.values()) <= {1, 2, 3}


def test_search_on_the_labelled_set_reaches_its_target_and_beats_bigram_bm25():
    # given the labelled work orders in the index
    records, _queries = load_eval()
    index_eval(records)
    # when every graded query runs as a supervisor
    result = evaluate_eval(supervisor(), verbose=False)
    # then (measured: SQLite 0.866 / 0.855, PostgreSQL 0.857 / 0.845; bigram BM25 0.515 / 0.572)
    assert result["queries"] >= 80
    assert result["recall_at_10"] >= 0.8
    assert result["ndcg_at_10"] >= 0.8
    assert result["recall_at_10"] > result["baseline_recall_at_10"] + 0.2
    # phone numbers typed in another format than the record's all find it
    assert result["by_kind"]["phone"][0] == 1.0


def test_grades_take_the_best_rule_a_record_matches():
    records = [
        {"id": "E1", "topic": "outage", "place": "阳光花园"},
        {"id": "E2", "topic": "outage", "place": "幸福里"},
        {"id": "E3", "topic": "trip"},
    ]
    rules = [{"topic": "outage", "place": "阳光花园", "grade": 3}, {"topic": "outage", "grade": 1}]
    assert grades(rules, records) == {"E1": 3, "E2": 1}


def test_the_bigram_baseline_scores_known_answers():
    assert bigrams("停电停电 抢修 ＡＰＰ") == ["停电", "电停", "停电", "抢修", "app"]
    bm25 = BigramBM25({"a": "停电", "b": "停电停电 抢修"})
    # idf = ln(1 + 0.5 / 2.5); lengths 1 and 4, average 2.5; k1 = 1.2, b = 0.75
    # a: idf × 1 × 2.2 / (1 + 1.2 × (0.25 + 0.75 × 1 / 2.5)) = 0.241631
    # b: idf × 2 × 2.2 / (2 + 1.2 × (0.25 + 0.75 × 4 / 2.5)) = 0.214496
    assert round(bm25.score("a", "停电"), 6) == 0.241631
    assert round(bm25.score("b", "停电"), 6) == 0.214496
    assert bm25.rank("停电") == ["a", "b"]
    assert bm25.rank("抢修") == ["b"]
    assert bm25.rank("光伏") == []
