"""The bilingual term map: common service-centre words in English and the Chinese words callers
and agents write for them (power outage → 停电 断电, refund → 退款 退费), read from
``data/terms.txt`` which ships with Kefu. A query is expanded with it, so an English query finds
Chinese records and an English word in a Chinese query finds English ones. Pure: no Django.

The Chinese words of the map also correct the commonest slip of a pinyin input method: a word
typed with another character of the same sound (停店 for 停电, 秘码 for 密码, 电废 for 电费). A
stretch of a query that is not one of the map's words but sounds exactly like one (same pinyin,
tones ignored, read by pypinyin) is searched as that word too.

The file has one entry a line: English phrases separated by commas, a ``|``, then the Chinese
words separated by spaces. Lines starting with ``#`` are headings.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path

from pypinyin import lazy_pinyin

TERMS_FILE = Path(__file__).resolve().parent / "data" / "terms.txt"
MAX_PHRASE = 4  # words in the longest English phrase looked up
SOUND_SPAN = (2, 3, 4)  # lengths of the stretches of Chinese compared by sound


class TermMapError(ValueError):
    """A line of a term file that is not ``english, phrases | 中文 词``."""


def _singular(word: str) -> list[str]:
    """``word`` and the forms it may have without a plural ending (bills → bill, fees → fee,
    batteries → battery); the map holds singular forms."""
    forms = [word]
    if len(word) > 3 and word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if len(word) > 3 and word.endswith("es"):
        forms.append(word[:-2])
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    return forms


class TermMap:
    """English phrases ↔ Chinese words."""

    def __init__(self, entries: Iterable[tuple[Sequence[str], Sequence[str]]] = ()) -> None:
        self._zh: dict[tuple[str, ...], tuple[str, ...]] = {}  # English phrase → Chinese
        self._en: dict[str, tuple[str, ...]] = {}  # Chinese word → one-word English terms
        self._alt: dict[str, tuple[str, ...]] = {}  # Chinese word → the others of its entries
        self.entries = 0
        for english, chinese in entries:
            self.entries += 1
            zh = tuple(w.strip() for w in chinese if w.strip())
            for word in zh:
                self._alt[word] = tuple(dict.fromkeys([*self._alt.get(word, ()), *zh]))
            for phrase in english:
                key = tuple(phrase.lower().split())
                if not key or not zh:
                    continue
                self._zh[key] = tuple(dict.fromkeys([*self._zh.get(key, ()), *zh]))
                if len(key) == 1:
                    for word in zh:
                        self._en[word] = tuple(dict.fromkeys([*self._en.get(word, ()), key[0]]))

    @classmethod
    def parse(cls, lines: Iterable[str], *, name: str = "terms") -> TermMap:
        entries = []
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            english, bar, chinese = line.partition("|")
            phrases = [p.strip() for p in english.split(",") if p.strip()]
            words = chinese.split()
            if not bar or not phrases or not words:
                raise TermMapError(
                    f"{name}, line {number}: expected 'english, phrases | 中文 词', got {line!r}"
                )
            entries.append((phrases, words))
        return cls(entries)

    @functools.cached_property
    def _by_sound(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        words = {w for zh in self._zh.values() for w in zh if 2 <= len(w) <= max(SOUND_SPAN)}
        out: dict[tuple[str, ...], tuple[str, ...]] = {}
        for word in sorted(words):
            key = tuple(lazy_pinyin(word))
            out[key] = (*out.get(key, ()), word)
        return out

    @functools.cached_property
    def _known(self) -> frozenset[str]:
        return frozenset(w for zh in self._zh.values() for w in zh)

    def words(self) -> list[str]:
        """Every Chinese word of the map."""
        return sorted(self._known)

    def sounds_like(self, run: str) -> list[str]:
        """The map's words that a stretch of the Chinese ``run`` sounds exactly like without
        being one of them: what a pinyin input method puts in place of a mistyped word."""
        out: list[str] = []
        for size in SOUND_SPAN:
            for start in range(len(run) - size + 1):
                piece = run[start : start + size]
                if piece in self._known:
                    continue
                for word in self._by_sound.get(tuple(lazy_pinyin(piece)), ()):
                    if word not in out:
                        out.append(word)
        return out

    def chinese(self, phrase: str) -> tuple[str, ...]:
        """The Chinese words for an English phrase (plural endings ignored)."""
        words = phrase.lower().split()
        for key in self._keys(words):
            if key in self._zh:
                return self._zh[key]
        return ()

    def english(self, word: str) -> tuple[str, ...]:
        return self._en.get(word, ())

    @staticmethod
    def _keys(words: Sequence[str]) -> list[tuple[str, ...]]:
        """The phrase as typed, then with its last word made singular."""
        if not words:
            return []
        head = tuple(words[:-1])
        return [(*head, last) for last in _singular(words[-1])]

    def expand(self, words: Sequence[str]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """Query words as (words, their translations) groups: the longest English phrase known
        at each position becomes one group with its Chinese words; a Chinese word known to
        the map gains the other Chinese words of its entries and their one-word English terms;
        any other word stands alone."""
        out: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        i = 0
        while i < len(words):
            word = words[i]
            if word.isascii():
                for n in range(min(MAX_PHRASE, len(words) - i), 0, -1):
                    phrase = words[i : i + n]
                    if not all(w.isascii() for w in phrase):
                        continue
                    found = self.chinese(" ".join(phrase))
                    if found:
                        out.append((tuple(phrase), found))
                        i += n
                        break
                else:
                    out.append(((word,), ()))
                    i += 1
            else:
                others = tuple(w for w in self._alt.get(word, ()) if w != word)
                out.append(((word,), (*others, *self.english(word))))
                i += 1
        return out


@functools.cache
def bilingual() -> TermMap:
    """The map that ships with Kefu (read once per process)."""
    with TERMS_FILE.open(encoding="utf-8") as handle:
        return TermMap.parse(handle, name=str(TERMS_FILE))
