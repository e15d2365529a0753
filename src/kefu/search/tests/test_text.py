"""Words from text, queries from a search box, snippets: checked against known answers."""

from kefu.search import text
from kefu.search.metrics import ndcg_at, recall_at
from kefu.search.terms import TermMap


def test_chinese_is_cut_into_words_and_stopwords_dropped():
    assert text.terms("小区停电了，请尽快抢修") == ["小区", "停电", "尽快", "抢修"]


def test_english_and_mixed_text_lower_cased_and_split_at_punctuation():
    assert text.terms("APP登录失败 Password-Reset v3.1") == [
        "app", "登录", "失败", "password", "reset", "v3", "1",
    ]  # fmt: skip


def test_full_width_letters_and_digits_match_their_ascii_forms():
    assert text.terms("ＶＩＰ客户１２３４") == text.terms("VIP客户1234")


def test_numbers_of_four_or_more_digits_are_collected_whole():
    analyzed = text.analyze("户号0712345678", "电话 138-1234-5678，工单 GD20261121-00035，楼 12 栋")
    assert analyzed.numbers.split() == [
        "0712345678", "1234", "5678", "gd20261121", "00035", "13812345678",
    ]  # fmt: skip


def test_query_words_expand_to_their_synonyms_and_numbers_stay_apart():
    synonyms = text.Synonyms([["停电", "断电", "没电"]])
    query = text.parse("家里没电 户号 3301", synonyms, terms=TermMap())
    assert query.groups == (("家里",), ("停电", "断电", "没电"), ("户号",))
    assert query.numbers == ("3301",)
    assert not query.empty
    assert text.parse("的 了 吗", synonyms).empty


def test_snippet_marks_every_match_in_a_window_around_the_first():
    pieces = text.snippet("客户反映：小区停电两小时，停电原因不明", ["停电"], width=12)
    assert pieces == [
        ("…", False), ("：小区", False), ("停电", True), ("两小时，", False), ("停电", True),
        ("原", False), ("…", False),
    ]  # fmt: skip


def test_snippet_of_short_text_shows_it_whole():
    assert text.snippet("Password reset", ["password"], width=40) == [
        ("Password", True),
        (" reset", False),
    ]


def test_recall_counts_at_most_k_relevant_records():
    relevant = {f"r{i}": 1 for i in range(20)}
    assert recall_at(["r1", "x", "r2"], relevant, k=10) == 0.2
    assert recall_at(["a", "b"], {"b": 2, "c": 1}, k=10) == 0.5
    assert recall_at(["a"], {}, k=10) == 0.0


def test_ndcg_is_one_for_the_ideal_order_and_known_for_others():
    relevant = {"a": 2, "b": 1}
    assert ndcg_at(["a", "b"], relevant) == 1.0
    # reversed: (1 + 3/log2(3)) / (3 + 1/log2(3))
    assert round(ndcg_at(["b", "a"], relevant), 4) == 0.7967
    assert ndcg_at(["x", "y"], relevant) == 0.0
