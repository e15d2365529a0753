"""From text to index terms, and from a search box to a query. Pure: no Django.

Chinese is cut into words by a fast segmenter (rjieba, jieba's dictionary compiled in Rust);
English and other Latin text is cut at non-letters and lower-cased; full-width forms are folded
to half-width (NFKC) so "ＶＩＰ" and "VIP" are the same word. Runs of four or more digits (account
numbers, phone numbers, work-order numbers) are also collected on their own, so that the
backends can match any part of them, and a phone number written with separators or a country
code (0716-8251639, +86 716 8251639) is also kept in the one form Kefu shows (07168251639).

Beside the words, every text has its *character grams*: the overlapping two-character pieces
of each run of Chinese (小区停电 → 小区 区停 停电) and each Latin word whole. A query's grams
still meet a record when the words do not: a compound the segmenter cut differently
(阳光花园小区), part of a word, or a word with one wrong character (阳光花圆 shares 阳光 and 光花).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import phonenumbers
import rjieba

from kefu.search.terms import TermMap, bilingual

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


# The term map's two-character words are kept whole from the start, in every process: a query
# for 没电 then meets the map's 没电 → 停电 whether or not a synonym group has taught the
# segmenter that word before, and records are cut the same way before and after. (Longer map
# entries such as 登录失败 stay cut into their parts, which the labelled sets rank better.)
add_words(w for w in bilingual().words() if len(w) == 2)


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


# ---- character grams --------------------------------------------------------------------------

_GRAM_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")


def _grams_of(normalized: str) -> list[str]:
    out: list[str] = []
    for run in _GRAM_RUN.findall(normalized):
        if run[0].isascii():
            if run not in STOPWORDS:
                out.append(run)
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend([run[i : i + 2] for i in range(len(run) - 1)])
    return out


def grams(text: str) -> list[str]:
    """The character grams of ``text``: overlapping pairs of Chinese characters within each run
    of Chinese (a lone character stands for itself), and each Latin or digit word whole."""
    return _grams_of(normalize(text))


# ---- phone numbers ----------------------------------------------------------------------------

# Digits with the separators people write inside a phone number, with an optional + or 00.
_PHONE_SPAN = re.compile(r"(?:\+|(?<!\d)00)?\(?\d[\d\s\-()（）]{5,40}\d")
_NON_DIGIT = re.compile(r"\D")
_PIECE = re.compile(r"\S+")


def phone_form(raw: str) -> str:
    """A mainland phone number as Kefu shows it — a mobile as its 11 digits, a landline with its
    leading 0 (07168251639) — whatever the separators or country code it was written with; ""
    when ``raw`` is not a valid mainland number."""
    digits = _NON_DIGIT.sub("", raw)
    if not 7 <= len(digits) <= 15:
        return ""
    if raw.lstrip().startswith("+"):
        candidates = ["+" + digits]
    elif digits.startswith("0086"):
        candidates = ["+" + digits[2:]]
    elif digits.startswith("86") and len(digits) >= 12:
        candidates = ["+" + digits, digits]
    else:
        candidates = [digits]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, "CN")
        except phonenumbers.NumberParseException:
            continue
        if number.country_code != 86 or not phonenumbers.is_valid_number(number):
            continue
        national = str(number.national_number)
        return national if national.startswith("1") else "0" + national
    return ""


def _needs_form(written: str) -> bool:
    """Whether a number as written differs from the form Kefu shows: separators, a + or 00,
    or the country code before a mobile or landline. Plain digits are already that form (and
    parsing every one would cost more than the rest of the analysis)."""
    return not written.isdigit() or (written.startswith("86") and len(written) >= 12)


def _phones_in(normalized: str) -> list[tuple[int, int, str]]:
    """(start, end, national form) of each phone number written in ``normalized`` text with
    separators or a country code."""
    found = []
    for m in _PHONE_SPAN.finditer(normalized):
        written = m.group()
        form = phone_form(written) if _needs_form(written) else ""
        if form:
            found.append((m.start(), m.end(), form))
        elif " " in written.strip():  # several numbers side by side: the longest from the left
            pieces = [
                (p.start() + m.start(), p.end() + m.start()) for p in _PIECE.finditer(written)
            ]
            i = 0
            while i < len(pieces):
                for j in range(len(pieces), i, -1):
                    part = normalized[pieces[i][0] : pieces[j - 1][1]]
                    form = phone_form(part) if _needs_form(part) else ""
                    if form:
                        found.append((pieces[i][0], pieces[j - 1][1], form))
                        i = j
                        break
                else:
                    i += 1
    return found


@dataclass(frozen=True)
class Analyzed:
    """One document ready for a backend: space-joined terms (title, body), numbers, and the
    character grams of the title and of the body."""

    title: str
    body: str
    numbers: str
    size: int  # characters of source text, for throughput figures
    title_grams: str = ""
    body_grams: str = ""


def analyze(title: str, body: str, extra_numbers: Sequence[str] = ()) -> Analyzed:
    norm_title, norm_body = normalize(title), normalize(body)
    title_words = _joined(norm_title)
    body_words = _joined(norm_body)
    extra = [normalize(n).strip() for n in extra_numbers]
    phones = [f for _s, _e, f in _phones_in(norm_title + "\n" + norm_body)]
    phones += [phone_form(n) for n in extra if n and _needs_form(n)]
    nums = dict.fromkeys(
        [
            *_numbers_in(title_words),
            *_numbers_in(body_words),
            *(n.lstrip("+") for n in extra),
            *phones,
        ]
    )
    return Analyzed(
        title=_without_stopwords(title_words),
        body=_without_stopwords(body_words),
        numbers=" ".join(n for n in nums if n),
        size=len(title) + len(body),
        title_grams=" ".join(_grams_of(norm_title)),
        body_grams=" ".join(_grams_of(norm_body)),
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
    """A parsed search. ``groups``: each a word and the words that mean the same (synonyms,
    the bilingual term map); a record scores for every group it holds. ``grams``: the
    character grams of the words, matched on their own. ``numbers``: each must occur inside
    some number of the record."""

    text: str
    groups: tuple[tuple[str, ...], ...] = ()
    numbers: tuple[str, ...] = ()
    highlight: tuple[str, ...] = field(default=())
    grams: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.groups and not self.numbers and not self.grams


MAX_GRAMS = 24


def _single_word(word: str) -> str:
    """``word`` if the segmenter keeps it as one index term, else "" (a longer expansion is
    still found through its grams)."""
    cut = _tokens(normalize(word))
    return cut[0] if len(cut) == 1 else ""


def parse(
    text: str,
    synonyms: Synonyms | None = None,
    *,
    max_terms: int = 12,
    terms: TermMap | None = None,
) -> Query:
    """What the person typed, as a :class:`Query`. A phone number in any format becomes the
    form Kefu stores; other digit runs of four or more become number matches; shorter ones and
    words become terms, expanded by ``synonyms`` and by the bilingual term map (English
    service words find the Chinese ones, and back)."""
    synonyms = synonyms or Synonyms()
    terms = bilingual() if terms is None else terms
    add_words(synonyms.words())  # so that "没电" is one word, as in the synonym list
    text = text.strip()[:200]
    normalized = normalize(text)
    nums: list[str] = []
    for start, end, form in reversed(_phones_in(normalized)):
        nums.insert(0, form)
        normalized = normalized[:start] + " " + normalized[end:]
    tokens = _tokens(normalized)
    words: list[str] = []
    for token in tokens:
        if is_number(token):
            if token not in nums:
                nums.append(token)
        elif token not in STOPWORDS:
            words.append(token)
    groups: list[tuple[str, ...]] = []
    gram_words: list[str] = []
    for typed_words, translated in terms.expand(words):
        own = [w for word in typed_words for w in synonyms.expand(word)]
        more = [w for t in translated for w in synonyms.expand(t)]
        everything = dict.fromkeys([*own, *more])
        gram_words.extend(everything)
        group = tuple(dict.fromkeys(w for w in (_single_word(w) for w in everything) if w))
        if group and group not in groups:
            groups.append(group)
    # What was typed, in runs of Chinese (stopwords and numbers cut them) and Latin words.
    runs: list[str] = [""]
    for token in tokens:
        if token in STOPWORDS or is_number(token) or token.isascii():
            runs.extend([token if token.isascii() and token in words else "", ""])
        else:
            runs[-1] += token
    # A stretch that sounds exactly like a known service word is searched as that word too.
    for run in runs:
        if run and not run.isascii():
            for word in terms.sounds_like(run):
                gram_words.append(word)
                single = _single_word(word)
                if single and not any(single in g for g in groups):
                    groups.append((single,))
    groups = groups[:max_terms]
    # The grams of what was typed, across word boundaries (typos, compounds), then those of
    # the synonyms, translations and corrections.
    typed = _grams_of(" ".join(r for r in runs if r))
    expanded = [g for w in gram_words for g in _grams_of(normalize(w))]
    gram_list = list(dict.fromkeys([*typed, *expanded]))[:MAX_GRAMS]
    shown = dict.fromkeys([w for g in groups for w in g] + nums + gram_list)
    return Query(
        text=text,
        groups=tuple(groups),
        numbers=tuple(nums[:4]),
        highlight=tuple(shown),
        grams=tuple(gram_list),
    )


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
