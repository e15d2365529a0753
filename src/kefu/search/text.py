"""From text to index terms, and from a search box to a query. Pure: no Django.

Chinese is cut into words by a fast segmenter (rjieba, jieba's dictionary compiled in Rust);
English and other Latin text is cut at non-letters and lower-cased; full-width forms are folded
to half-width (NFKC) so "ＶＩＰ" and "VIP" are the same word. Runs of four or more digits (account
numbers, phone numbers, work-order numbers) are also collected on their own, so that the
backends can match any part of them.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import rjieba

# Letters and digits of any script; what the segmenter leaves joined by punctuation is split here.
_ALNUM = re.compile(r"[^\W_]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
NUMBER_MIN_DIGITS = 4
# Words so common in both languages that they say nothing about a document.
_STOP = (
    "的 了 是 在 我 你 他 她 它 们 和 与 或 及 也 都 就 而 被 把 这 那 有 个 吗 呢 吧 啊 呀 哦 嗯 "
    "请 您 之 其 于 怎么 怎么办 怎样 如何 什么 为什么 多久 哪里 在哪里 哪些 是否 可以 能 吗 "
    "a an the of to in on at for and or is are was be by it this that with as how what do my i"
)
STOPWORDS = frozenset(_STOP.split())
# Candidates for numbers: words of ASCII letters and digits holding a digit.
_DIGIT_WORD = re.compile(r"(?<!\S)[a-z0-9]*[0-9][a-z0-9]*(?!\S)")


_WIDE = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def normalize(text: str) -> str:
    """Lower case, with full-width letters and digits folded to ASCII ("ＶＩＰ１" → "vip1").
    Punctuation is left alone: it separates words either way. (Full NFKC costs as much as
    segmenting, and changes nothing else that matters for words.)"""
    if _WIDE.search(text):
        text = text.translate(_FOLD)
    return text.lower()


def is_word(word: str) -> bool:
    """One word as the index keeps it: letters and digits only, and not a stopword."""
    folded = normalize(word)
    return bool(_ALNUM.fullmatch(folded)) and folded not in STOPWORDS


def is_number(token: str) -> bool:
    """An ASCII token with four or more digits (account, phone or work-order number)."""
    if len(token) < NUMBER_MIN_DIGITS or not token.isascii():
        return False
    if token.isdigit():
        return True
    return sum(map(str.isdigit, token)) >= NUMBER_MIN_DIGITS and token.isalnum()


_lock = threading.Lock()
_custom_words: set[str] = set()


def add_words(words: Iterable[str]) -> None:
    """Teach the segmenter words it must keep whole (synonyms, product names). Process-wide."""
    with _lock:
        for word in words:
            word = normalize(word).strip()
            if word and word not in _custom_words and _HAN.search(word):
                rjieba.add_word(word, None, None)
                _custom_words.add(word)


def _joined(normalized: str) -> str:
    """Words of already-normalised text, space-separated: the segmenter's cut, with punctuation
    dropped and tokens such as "3.1.1" or "a.b@c.com" split at their punctuation. Done with
    C-level string and regex calls: per-word Python would halve the indexing rate."""
    return " ".join(_ALNUM.findall(" ".join(rjieba.cut(normalized))))


def _tokens(normalized: str) -> list[str]:
    return _joined(normalized).split()


def _numbers_in(words: str) -> list[str]:
    return [w for w in _DIGIT_WORD.findall(words) if is_number(w)]


def _without_stopwords(words: str) -> str:
    return " ".join([w for w in words.split() if w not in STOPWORDS])


def terms(text: str) -> list[str]:
    """The index terms of ``text``, in order, stopwords removed."""
    return [w for w in _tokens(normalize(text)) if w not in STOPWORDS]


def numbers(text: str) -> list[str]:
    """Digit-bearing tokens of four or more digits: matched by any part (substring)."""
    return _numbers_in(_joined(normalize(text)))


@dataclass(frozen=True)
class Analyzed:
    """One document ready for a backend: space-joined terms (title, body) and numbers."""

    title: str
    body: str
    numbers: str
    size: int  # characters of source text, for throughput figures


def analyze(title: str, body: str, extra_numbers: Sequence[str] = ()) -> Analyzed:
    title_words = _joined(normalize(title))
    body_words = _joined(normalize(body))
    nums = dict.fromkeys(
        [
            *_numbers_in(title_words),
            *_numbers_in(body_words),
            *(normalize(n).strip() for n in extra_numbers),
        ]
    )
    return Analyzed(
        title=_without_stopwords(title_words),
        body=_without_stopwords(body_words),
        numbers=" ".join(n for n in nums if n),
        size=len(title) + len(body),
    )


class Synonyms:
    """Groups of words that mean the same to a caller (停电 / 断电 / 没电)."""

    def __init__(self, groups: Iterable[Iterable[str]] = ()) -> None:
        self._of: dict[str, tuple[str, ...]] = {}
        for group in groups:
            words = tuple(dict.fromkeys(normalize(w).strip() for w in group if w.strip()))
            for word in words:
                merged = dict.fromkeys([*self._of.get(word, ()), *words])
                self._of[word] = tuple(merged)

    def expand(self, term: str) -> tuple[str, ...]:
        return self._of.get(term, (term,))

    def words(self) -> list[str]:
        return list(self._of)


@dataclass(frozen=True)
class Query:
    """A parsed search: every group must match (one of its words); every number must occur
    inside some number of the document."""

    text: str
    groups: tuple[tuple[str, ...], ...] = ()
    numbers: tuple[str, ...] = ()
    highlight: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.groups and not self.numbers


def parse(text: str, synonyms: Synonyms | None = None, *, max_terms: int = 12) -> Query:
    """What the person typed, as a :class:`Query`. Digit runs of four or more become number
    matches; shorter ones and words become terms (expanded by ``synonyms``)."""
    synonyms = synonyms or Synonyms()
    add_words(synonyms.words())  # so that "没电" is one word, as in the synonym list
    text = text.strip()[:200]
    groups: list[tuple[str, ...]] = []
    nums: list[str] = []
    for token in _tokens(normalize(text)):
        if is_number(token):
            if token not in nums:
                nums.append(token)
            continue
        if token in STOPWORDS:
            continue
        group = synonyms.expand(token)
        if group not in groups:
            groups.append(group)
    groups = groups[:max_terms]
    shown = dict.fromkeys([w for g in groups for w in g] + nums)
    return Query(text=text, groups=tuple(groups), numbers=tuple(nums[:4]), highlight=tuple(shown))


def snippet(text: str, words: Sequence[str], *, width: int = 120) -> list[tuple[str, bool]]:
    """A window of ``text`` around the first match of ``words``, as (piece, is_match) pairs for
    the caller to escape and mark. Case- and width-insensitive; the text is shown as written."""
    if not text:
        return []
    folded = unicodedata.normalize("NFKC", text)
    if len(folded) != len(text):  # folding changed lengths: show the folded text
        text = folded
    lower = folded.lower()
    needles = sorted({w for w in words if w}, key=len, reverse=True)
    if not needles:
        return [(text[:width] + ("…" if len(text) > width else ""), False)]
    pattern = re.compile("|".join(re.escape(w) for w in needles))
    first = pattern.search(lower)
    start = 0 if first is None or len(text) <= width else max(0, first.start() - width // 4)
    end = min(len(text), start + width)
    pieces: list[tuple[str, bool]] = []
    if start > 0:
        pieces.append(("…", False))
    pos = start
    for m in pattern.finditer(lower, start, end):
        if m.start() > pos:
            pieces.append((text[pos : m.start()], False))
        pieces.append((text[m.start() : min(m.end(), end)], True))
        pos = min(m.end(), end)
    if pos < end:
        pieces.append((text[pos:end], False))
    if end < len(text):
        pieces.append(("…", False))
    return pieces
