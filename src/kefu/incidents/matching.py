"""Which contacts belong to an incident: pure rules, no Django.

- An incident with areas and keywords takes a contact that names one of its areas (in the
  contact's place or in what the customer said) *and* one of its keywords: an outage in 朝阳区
  is not every call from 朝阳区.
- With areas only, naming an area is enough; with keywords only, a keyword is enough.
- Matching ignores case, full-width forms and spaces, so "ＸＸ 小区" matches "XX小区".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

MAX_TERMS = 30
MAX_TERM_LENGTH = 40


def fold(text: str) -> str:
    """The form texts are compared in: NFKC, case-folded, without white space."""
    return "".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def clean_terms(raw: Iterable[str] | str) -> list[str]:
    """Terms as typed (one per line, or separated by commas, semicolons or 、), without blanks
    or duplicates, in the order given."""
    if isinstance(raw, str):
        for sep in (",", "，", ";", "；", "、", "\r"):
            raw = raw.replace(sep, "\n")
        raw = raw.split("\n")
    seen: set[str] = set()
    terms: list[str] = []
    for item in raw:
        term = " ".join(str(item).split())
        key = fold(term)
        if key and key not in seen:
            seen.add(key)
            terms.append(term)
    return terms


def match(areas: Sequence[str], keywords: Sequence[str], place: str, text: str) -> str | None:
    """ "area" or "keyword" when the contact belongs to the incident, else None."""
    where = fold(place) + "\n" + fold(text)
    said = fold(text) + "\n" + fold(place)
    area_hit = any(key and key in where for key in (fold(a) for a in areas))
    keyword_hit = any(key and key in said for key in (fold(k) for k in keywords))
    if areas and keywords:
        return "area" if area_hit and keyword_hit else None
    if areas:
        return "area" if area_hit else None
    if keywords:
        return "keyword" if keyword_hit else None
    return None
