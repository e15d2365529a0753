"""Automatic checks on text interactions (自动质检): pure functions over a conversation.

A conversation is a list of :class:`Turn` (who spoke, what, when). Each check returns a
:class:`Finding`; ``passed`` is False when the check flags the interaction and None when it
does not apply (no agent turn, no timestamps). Every check is lexical — phrase lists, a small
sentiment lexicon, question marks and question words — not a language model: it catches the
plain cases and the inspector confirms each finding before it counts.

No Django here; the phrase lists come in a :class:`PhraseBook` (defaults in
:mod:`kefu.qa.phrases`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from kefu.qa import phrases

Speaker = Literal["agent", "customer"]

GREETING = "greeting"
CLOSING = "closing"
FORBIDDEN = "forbidden"
FIRST_RESPONSE = "first_response"
REPLY_GAP = "reply_gap"
UNANSWERED = "unanswered"
SENTIMENT = "sentiment"
CHECK_CODES: tuple[str, ...] = (
    GREETING,
    CLOSING,
    FORBIDDEN,
    FIRST_RESPONSE,
    REPLY_GAP,
    UNANSWERED,
    SENTIMENT,
)


@dataclass(frozen=True)
class Turn:
    speaker: Speaker
    text: str
    at: dt.datetime | None = None


@dataclass(frozen=True)
class PhraseBook:
    greetings: tuple[str, ...] = phrases.GREETINGS
    closings: tuple[str, ...] = phrases.CLOSINGS
    forbidden: tuple[str, ...] = phrases.FORBIDDEN
    positive: tuple[str, ...] = phrases.POSITIVE
    negative: tuple[str, ...] = phrases.NEGATIVE
    first_response_s: int = 60
    reply_gap_s: int = 300


@dataclass(frozen=True)
class Finding:
    code: str
    passed: bool | None
    hits: tuple[str, ...] = ()
    value: float | None = None
    excerpt: str = ""


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def get(self, code: str) -> Finding:
        for finding in self.findings:
            if finding.code == code:
                return finding
        raise KeyError(code)

    @property
    def flagged(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings if f.passed is False)


def fold(text: str) -> str:
    """NFKC, lower case, one space between words: the form phrases are matched in."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _is_ascii_word(term: str) -> bool:
    return term.strip().isascii() and any(c.isalpha() for c in term)


@functools.lru_cache(maxsize=256)
def _patterns(terms: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    prepared = []
    for term in sorted({fold(t) for t in terms if t.strip()}, key=lambda t: (-len(t), t)):
        if _is_ascii_word(term):
            pattern = re.compile(r"(?<![a-z0-9'])" + re.escape(term.strip()) + r"(?![a-z0-9])")
        else:
            pattern = re.compile(re.escape(term))
        prepared.append((term.strip(), pattern))
    return tuple(prepared)


def find_terms(text: str, terms: Iterable[str]) -> list[str]:
    """The terms found in ``text``, longest first, each span used once (so "不满意" is not also
    "满意"). ASCII terms match whole words only ("whatever" is not in "whatevers")."""
    folded = fold(text)
    found: list[str] = []
    taken = [False] * len(folded)
    for term, pattern in _patterns(tuple(terms)):
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(taken[start:end]):
                continue
            for i in range(start, end):
                taken[i] = True
            found.append(term)
    return found


def _agent_turns(turns: Sequence[Turn]) -> list[Turn]:
    return [t for t in turns if t.speaker == "agent"]


def check_greeting(turns: Sequence[Turn], book: PhraseBook) -> Finding:
    agent = _agent_turns(turns)
    if not agent:
        return Finding(GREETING, None)
    hits = find_terms(agent[0].text, book.greetings)
    return Finding(GREETING, bool(hits), tuple(hits), excerpt=agent[0].text[:200])


def check_closing(turns: Sequence[Turn], book: PhraseBook) -> Finding:
    agent = _agent_turns(turns)
    if not agent:
        return Finding(CLOSING, None)
    hits = find_terms(agent[-1].text, book.closings)
    return Finding(CLOSING, bool(hits), tuple(hits), excerpt=agent[-1].text[:200])


def check_forbidden(turns: Sequence[Turn], book: PhraseBook) -> Finding:
    agent = _agent_turns(turns)
    if not agent:
        return Finding(FORBIDDEN, None)
    hits: list[str] = []
    excerpt = ""
    for turn in agent:
        found = find_terms(turn.text, book.forbidden)
        if found and not excerpt:
            excerpt = turn.text[:200]
        hits.extend(t for t in found if t not in hits)
    return Finding(FORBIDDEN, not hits, tuple(hits), excerpt=excerpt)


def response_gaps(turns: Sequence[Turn]) -> list[float]:
    """Seconds from each customer turn that follows an agent turn (or opens the conversation)
    to the agent's next turn; a customer's run of turns counts from its first."""
    gaps: list[float] = []
    waiting_since: dt.datetime | None = None
    for turn in turns:
        if turn.at is None:
            continue
        if turn.speaker == "customer":
            if waiting_since is None:
                waiting_since = turn.at
        elif waiting_since is not None:
            gaps.append((turn.at - waiting_since).total_seconds())
            waiting_since = None
    return gaps


def check_first_response(turns: Sequence[Turn], book: PhraseBook) -> Finding:
    gaps = response_gaps(turns)
    if not gaps:
        return Finding(FIRST_RESPONSE, None)
    return Finding(FIRST_RESPONSE, gaps[0] <= book.first_response_s, value=gaps[0])


def check_reply_gap(turns: Sequence[Turn], book: PhraseBook) -> Finding:
    gaps = response_gaps(turns)
    if len(gaps) < 2:
        return Finding(REPLY_GAP, None, value=gaps[0] if gaps else None)
    worst = max(gaps[1:])
    return Finding(REPLY_GAP, worst <= book.reply_gap_s, value=worst)


_SENTENCE = re.compile(r"[^。！？!?；;\n.]*[？?]|[^。！？!?；;\n.]+[。！!；;\n.]?")
_ZH_QUESTION = re.compile(
    r"(吗|么|呢)[\s。]*$|怎么|什么|为什么|如何|几点|几天|多少|多久|能否|是否|哪里|哪儿|有没有|能不能|可不可以|可以不|会不会|是不是"
)  # noqa: E501
_EN_QUESTION = re.compile(
    r"^(what|when|where|why|how|who|which|can|could|would|will|is|are|do|does|did|should|may)\b"
)
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "to",
        "of",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "i",
        "you",
        "we",
        "it",
        "my",
        "your",
        "our",
        "this",
        "that",
        "for",
        "in",
        "on",
        "at",
        "with",
        "can",
        "could",
        "would",
        "will",
        "do",
        "does",
        "did",
        "what",
        "when",
        "where",
        "why",
        "how",
        "who",
        "which",
        "please",
        "there",
        "have",
        "has",
        "had",
        "me",
        "so",
        "if",
        "any",
        "not",
        "no",
        "yes",
        "just",
        "about",
        "still",
        "get",
    ]
)
_ZH_STOP = frozenset(
    [
        "请问",
        "您好",
        "你好",
        "我们",
        "你们",
        "什么",
        "怎么",
        "为什么",
        "如何",
        "可以",
        "能否",
        "是否",
        "一下",
        "这个",
        "那个",
        "现在",
        "还是",
        "有没有",
        "能不能",
        "吗",
        "呢",
        "的",
        "了",
        "是",
        "我",
        "你",
        "您",
    ]
)
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")


def questions(text: str) -> list[str]:
    """The sentences of ``text`` that ask something: a question mark, a Chinese question word or
    sentence-final particle, or an English sentence that opens with a question word."""
    found: list[str] = []
    for raw in _SENTENCE.findall(fold(text)):
        sentence = raw.strip()
        if not sentence:
            continue
        if (
            sentence.endswith(("?", "？"))
            or _CJK.search(sentence)
            and _ZH_QUESTION.search(sentence.rstrip("。.!！"))
            or _EN_QUESTION.match(sentence)
            and not _CJK.search(sentence)
        ):
            found.append(sentence)
    return found


def keywords(text: str) -> set[str]:
    """Content keys of a text: Chinese character pairs and English words, stop words left out."""
    folded = fold(text)
    for stop in sorted(_ZH_STOP, key=len, reverse=True):
        folded = folded.replace(stop, " ")
    keys: set[str] = set()
    for run in _CJK.findall(folded):
        keys.update(run[i : i + 2] for i in range(len(run) - 1))
    for word in _WORD.findall(folded):
        if word not in _STOP and len(word) > 2:
            keys.add(word.rstrip("s") if len(word) > 4 else word)
    return keys


def _states_something(text: str) -> bool:
    """Whether an agent turn says something other than questions back to the customer."""
    asked = questions(text)
    rest = fold(text)
    for question in asked:
        rest = rest.replace(question, " ")
    return bool(keywords(rest) or _CJK.search(rest) and len(_CJK.sub("", rest)) < len(rest))


def unanswered_questions(turns: Sequence[Turn]) -> list[str]:
    """Customer questions no later agent turn answers. A turn that asks one thing is answered
    by any later agent statement (not just a question back); when a turn asks several things,
    each needs a later agent turn that shares a content key with it (a Chinese character pair
    or an English word), so "how do I pay, and can I get an invoice?" answered only about
    paying leaves the invoice question open."""
    left: list[str] = []
    for index, turn in enumerate(turns):
        if turn.speaker != "customer":
            continue
        asked = questions(turn.text)
        if not asked:
            continue
        later = [t.text for t in turns[index + 1 :] if t.speaker == "agent"]
        statements = [text for text in later if _states_something(text)]
        if not statements:
            left.extend(asked)
            continue
        if len(asked) == 1:
            continue
        later_keys = keywords(" ".join(later))
        for question in asked:
            keys = keywords(question)
            if keys and not keys & later_keys:
                left.append(question)
    return left


def check_unanswered(turns: Sequence[Turn], book: PhraseBook) -> Finding:
    if not any(t.speaker == "customer" for t in turns):
        return Finding(UNANSWERED, None)
    left = unanswered_questions(turns)
    return Finding(UNANSWERED, not left, tuple(left), value=float(len(left)))


def polarity(text: str, book: PhraseBook) -> int:
    """Positive minus negative lexicon hits; a negation right before a positive word counts it
    as negative."""
    folded = fold(text)
    negative = {fold(t).strip() for t in book.negative}
    score = 0
    for term in find_terms(folded, book.negative + book.positive):
        if term in negative:
            score -= 1
            continue
        at = folded.find(term)
        before = folded[max(0, at - 4) : at]
        negated = any(n.strip() and before.rstrip().endswith(n.strip()) for n in phrases.NEGATIONS)
        score += -1 if negated else 1
    return score


def sentiment_trend(turns: Sequence[Turn], book: PhraseBook) -> list[int]:
    """The polarity of each customer turn, in order."""
    return [polarity(t.text, book) for t in turns if t.speaker == "customer"]


def check_sentiment(turns: Sequence[Turn], book: PhraseBook) -> Finding:
    """Flags a conversation whose customer ends negative, or ends worse than they began."""
    trend = sentiment_trend(turns, book)
    if not trend:
        return Finding(SENTIMENT, None)
    last = trend[-1]
    worse = len(trend) > 1 and last < trend[0]
    return Finding(SENTIMENT, not (last < 0 or worse), value=float(last - trend[0]))


CHECKS = {
    GREETING: check_greeting,
    CLOSING: check_closing,
    FORBIDDEN: check_forbidden,
    FIRST_RESPONSE: check_first_response,
    REPLY_GAP: check_reply_gap,
    UNANSWERED: check_unanswered,
    SENTIMENT: check_sentiment,
}


def run_checks(
    turns: Sequence[Turn], book: PhraseBook | None = None, codes: Iterable[str] = CHECK_CODES
) -> Report:
    book = book or PhraseBook()
    return Report(tuple(CHECKS[code](turns, book) for code in codes))
