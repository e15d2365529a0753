"""Words from text, queries from a search box, snippets: checked against known answers."""

import pytest

from kefu.search import text
from kefu.search.metrics import ndcg_at, recall_at
from kefu.search.terms import TermMap, TermMapError, bilingual


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


def test_grams_are_overlapping_pairs_of_chinese_and_whole_latin_words():
    assert text.grams("小区停电了 APP闪退 Ｖ３ 电") == [
        "小区", "区停", "停电", "电了", "app", "闪退", "v3", "电",
    ]  # fmt: skip
    analyzed = text.analyze("阳光花园", "the password")
    assert analyzed.title_grams == "阳光 光花 花园"
    assert analyzed.body_grams == "password"  # stopwords left out


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("07168251639", "07168251639"),
        ("0716-8251639", "07168251639"),
        ("（0716）8251639", "07168251639"),
        ("+86 716 8251639", "07168251639"),
        ("86-716-8251639", "07168251639"),
        ("0086 716 8251639", "07168251639"),
        ("867168251639", "07168251639"),
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("027-87654321", "02787654321"),
        ("0712345678", ""),  # an account number, not a phone
        ("12345", ""),
        ("+44 20 7946 0958", ""),  # not a mainland number
    ],
)
def test_a_phone_number_in_any_format_has_the_form_kefu_shows(written, shown):
    assert text.phone_form(written) == shown


def test_a_query_phone_number_becomes_one_number_in_the_shown_form():
    assert text.parse("+86 716 8251639", terms=TermMap()).numbers == ("07168251639",)
    assert text.parse("0716 8251639 138 0013 8000", terms=TermMap()).numbers == (
        "07168251639",
        "13800138000",
    )
    assert text.parse("1234 5678", terms=TermMap()).numbers == ("1234", "5678")
    # and the index keeps both what was written and the shown form
    numbers = text.analyze("咨询", "来电 0716-8251639", ["8613800138000"]).numbers.split()
    assert numbers == ["0716", "8251639", "8613800138000", "07168251639", "13800138000"]


def test_english_phrases_expand_to_chinese_words_and_back():
    terms = TermMap.parse(
        ["# utilities", "power outage, blackout | 停电 断电", "refund | 退款 退费", "bill | 电费"]
    )
    assert terms.entries == 3
    query = text.parse("power outages at home", terms=terms)
    assert query.groups == (("power", "outages", "停电", "断电"), ("home",))
    assert {"停电", "断电"} <= set(query.grams)
    # a Chinese word gains the other words of its entry and its one-word English terms
    assert text.parse("退款", terms=terms).groups == (("退款", "退费", "refund"),)


def test_a_term_file_line_without_its_bar_is_named():
    with pytest.raises(TermMapError, match="terms.txt, line 2: expected"):
        TermMap.parse(["# heading", "power outage 停电"], name="terms.txt")


def test_a_stretch_that_sounds_like_a_known_word_is_searched_as_it():
    terms = TermMap.parse(["password | 密码", "crash | 闪退", "meter | 电表"])
    assert terms.sounds_like("秘码忘了") == ["密码"]
    assert terms.sounds_like("闪推") == ["闪退"]
    assert terms.sounds_like("密码") == []  # already the word
    assert terms.sounds_like("停电") == []
    assert text.parse("电标不亮", terms=terms).groups[-1] == ("电表",)


def test_the_shipped_term_map_has_a_few_hundred_entries():
    terms = bilingual()
    assert terms.entries >= 250
    assert terms.chinese("meter reading") == ("抄表",)
    assert terms.chinese("Electricity Bills") == ("电费",)
