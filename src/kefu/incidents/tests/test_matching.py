"""Which contacts belong to an incident: the pure rules, against known answers."""

import pytest

from kefu.incidents.matching import clean_terms, fold, match


@pytest.mark.parametrize(
    ("areas", "keywords", "place", "text", "expected"),
    [
        (["朝阳区"], [], "北京市朝阳区望京街道", "家里没电了", "area"),
        (["朝阳区"], [], "海淀区", "家里没电了", None),
        (["朝阳区"], [], "", "朝阳区这边整片停电", "area"),
        ([], ["停电"], "海淀区", "小区停电两小时", "keyword"),
        ([], ["停电"], "海淀区", "电费账单有误", None),
        (["朝阳区"], ["停电", "没电"], "朝阳区望京", "家里没电了", "area"),
        (["朝阳区"], ["停电"], "朝阳区望京", "电费账单有误", None),
        (["ＸＸ 小区"], [], "xx小区3号楼", "", "area"),
        ([], [], "朝阳区", "停电", None),
    ],
)
def test_match(areas, keywords, place, text, expected):
    assert match(areas, keywords, place, text) == expected


def test_clean_terms_splits_and_drops_duplicates():
    assert clean_terms("朝阳区, 海淀区\n朝阳区；望京、 ") == ["朝阳区", "海淀区", "望京"]
    assert clean_terms(["A区", "a区", " "]) == ["A区"]


def test_fold():
    assert fold(" ＡＢ c ") == "abc"
