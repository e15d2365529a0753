import pytest
from django.core.exceptions import ValidationError

from kefu.surveys.defaults import STANDARD_QUESTIONS
from kefu.surveys.questions import check_questions, clean_answers, derive


def test_standard_questions_are_valid():
    assert check_questions(STANDARD_QUESTIONS) == []


def test_why_is_only_kept_when_dissatisfied():
    assert clean_answers(STANDARD_QUESTIONS, {"csat": "4", "why": "x", "nps": "9"}) == {
        "csat": 4,
        "nps": 9,
    }
    answers = clean_answers(STANDARD_QUESTIONS, {"csat": "1", "why": " late ", "nps": "2"})
    assert answers == {"csat": 1, "why": "late", "nps": 2}
    assert derive(STANDARD_QUESTIONS, answers) == ("level4", 1, 2, True, "late")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"csat": "5", "nps": "1"}, "csat"),
        ({"csat": "3"}, "nps"),
        ({"csat": "3", "nps": "11"}, "nps"),
        ({"csat": "3", "nps": "1", "extra": "x"}, "extra"),
        ({"csat": "٣", "nps": "1"}, "csat"),
    ],
)
def test_bad_answers_name_the_question(raw, field):
    with pytest.raises(ValidationError) as exc:
        clean_answers(STANDARD_QUESTIONS, raw)
    assert field in exc.value.message_dict


def test_question_definitions_are_checked():
    assert check_questions([]) == ["A survey needs at least one question."]
    problems = check_questions(
        [{"key": "a", "kind": "stars", "text": "x", "show_if": {"key": "b", "values": [1]}}]
    )
    assert problems == ["Question 1 depends on a question that does not come before it."]
