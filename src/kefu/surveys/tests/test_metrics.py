from kefu.surveys.metrics import Tally, figures, tally_answers


def test_figures_on_known_answers():
    # given 10 sent; 8 answered: 4-level 4,4,3,2,1 and stars 5,4,2; NPS 10,9,8,7,6,0
    answers = [
        ("level4", 4, 10),
        ("level4", 4, 9),
        ("level4", 3, 8),
        ("level4", 2, 7),
        ("level4", 1, 6),
        ("stars", 5, 0),
        ("stars", 4, None),
        ("stars", 2, None),
    ]
    # when
    f = figures(tally_answers(answers, sent=10))
    # then: satisfied 4,4,3 + 5,4 = 5 of 8; promoters 2, detractors 2 of 6
    assert f.csat == 62.5
    assert f.nps == 0.0
    assert f.promoters == 33.3
    assert f.detractors == 33.3
    assert f.response_rate == 80.0
    assert f.distribution == {"level4": {1: 1, 2: 1, 3: 1, 4: 2}, "stars": {2: 1, 4: 1, 5: 1}}


def test_nps_of_all_detractors_and_empty_groups():
    assert figures(tally_answers([("", None, 3), ("", None, 6)])).nps == -100.0
    empty = figures(Tally())
    assert (empty.csat, empty.nps, empty.response_rate) == (None, None, None)
