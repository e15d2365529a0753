"""Survey questions: their shape, which ones apply, and checking a customer's answers.

A question is a dict::

    {"key": "why", "kind": "text", "text": "请告诉我们原因", "text_en": "Tell us why",
     "required": False, "show_if": {"key": "csat", "values": [1, 2]}}

Kinds: ``level4`` (4 非常满意, 3 满意, 2 一般, 1 不满意), ``stars`` (1–5), ``nps`` (0–10),
``choice`` (``choices``: [{"value", "label", "label_en"}]) and ``text``. ``show_if`` asks a
question only when an earlier answer is one of ``values`` ("why" only when dissatisfied). The
first ``level4``/``stars`` question is the one CSAT counts; the first ``nps`` question is NPS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.surveys.metrics import LEVEL4, STARS, is_dissatisfied

KINDS = (LEVEL4, STARS, "nps", "choice", "text")
RANGES = {LEVEL4: (1, 4), STARS: (1, 5), "nps": (0, 10)}
LEVEL4_LABELS = {
    4: gettext_lazy("Very satisfied"),
    3: gettext_lazy("Satisfied"),
    2: gettext_lazy("Average"),
    1: gettext_lazy("Dissatisfied"),
}
MAX_TEXT = 2000

Question = Mapping[str, Any]


def check_questions(questions: Any) -> list[str]:
    """What is wrong with a list of question definitions (empty when it is usable)."""
    if not isinstance(questions, list) or not questions:
        return [_("A survey needs at least one question.")]
    problems: list[str] = []
    seen: set[str] = set()
    for n, q in enumerate(questions, start=1):
        if not isinstance(q, dict):
            problems.append(_("Question %(n)s is not an object.") % {"n": n})
            continue
        key = q.get("key")
        if not isinstance(key, str) or not key.isidentifier():
            problems.append(_("Question %(n)s needs a key made of letters and digits.") % {"n": n})
        elif key in seen:
            problems.append(_("Question %(n)s repeats the key “%(k)s”.") % {"n": n, "k": key})
        if q.get("kind") not in KINDS:
            problems.append(
                _("Question %(n)s has an unknown kind; use one of %(kinds)s.")
                % {"n": n, "kinds": ", ".join(KINDS)}
            )
        if not isinstance(q.get("text"), str) or not q["text"].strip():
            problems.append(_("Question %(n)s needs its Chinese wording.") % {"n": n})
        if q.get("kind") == "choice" and not (
            isinstance(q.get("choices"), list)
            and q["choices"]
            and all(isinstance(c, dict) and isinstance(c.get("value"), str) for c in q["choices"])
        ):
            problems.append(_("Question %(n)s needs a list of choices.") % {"n": n})
        cond = q.get("show_if")
        if cond is not None and (
            not isinstance(cond, dict) or cond.get("key") not in seen or not cond.get("values")
        ):
            problems.append(
                _("Question %(n)s depends on a question that does not come before it.") % {"n": n}
            )
        if isinstance(key, str):
            seen.add(key)
    return problems


def wording(q: Question, language: str) -> str:
    if language.startswith("en") and q.get("text_en"):
        return str(q["text_en"])
    return str(q["text"])


def choice_label(choice: Mapping[str, Any], language: str) -> str:
    if language.startswith("en") and choice.get("label_en"):
        return str(choice["label_en"])
    return str(choice.get("label") or choice["value"])


def applies(q: Question, answers: Mapping[str, Any]) -> bool:
    cond = q.get("show_if")
    if not cond:
        return True
    return answers.get(cond["key"]) in cond["values"]


def clean_answers(
    questions: Sequence[Question], raw: Mapping[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """The answers as stored (numbers as ints, text trimmed), or ``ValidationError`` naming
    each question that is wrong. Answers to questions that do not apply are dropped;
    ``partial`` accepts unanswered questions (the IVR asks only the scale questions)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    known = {q["key"] for q in questions}
    for key in raw:
        if key not in known:
            errors.setdefault(str(key), []).append(_("There is no such question."))
    for q in questions:
        key, kind = q["key"], q["kind"]
        if not applies(q, clean):
            continue
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if q.get("required", kind != "text") and not partial:
                errors[key] = [_("Please answer this question.")]
            continue
        if kind in RANGES:
            low, high = RANGES[kind]
            text = str(value).strip()
            if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
                errors[key] = [
                    _("Choose a number from %(low)s to %(high)s.") % {"low": low, "high": high}
                ]
                continue
            number = int(text)
            if not low <= number <= high:
                errors[key] = [
                    _("Choose a number from %(low)s to %(high)s.") % {"low": low, "high": high}
                ]
                continue
            clean[key] = number
        elif kind == "choice":
            values = {c["value"] for c in q["choices"]}
            if value not in values:
                errors[key] = [_("Choose one of the offered answers.")]
                continue
            clean[key] = value
        else:
            text = str(value).replace("\x00", "").strip()
            if len(text) > MAX_TEXT:
                errors[key] = [_("Keep the answer under %(n)s characters.") % {"n": MAX_TEXT}]
                continue
            clean[key] = text
    if errors:
        raise ValidationError(errors)
    return clean


def derive(
    questions: Sequence[Question], answers: Mapping[str, Any]
) -> tuple[str, int | None, int | None, bool, str]:
    """(CSAT scale, CSAT score, NPS score, dissatisfied, joined free text) of an answer."""
    scale, score, nps = "", None, None
    texts = []
    for q in questions:
        value = answers.get(q["key"])
        if value is None:
            continue
        if q["kind"] in (LEVEL4, STARS) and not scale:
            scale, score = q["kind"], int(value)
        elif q["kind"] == "nps" and nps is None:
            nps = int(value)
        elif q["kind"] == "text" and value:
            texts.append(str(value))
    dissatisfied = bool(scale) and score is not None and is_dissatisfied(scale, score)
    return scale, score, nps, dissatisfied, "\n".join(texts)
