"""Ranking quality measures, for the labelled query set. Pure: no Django.

- recall@k: the share of a query's relevant records found in the first k hits, out of at most
  k (a query with 30 relevant records is not marked down for showing only 10 of them);
- nDCG@k: discounted cumulative gain of the first k hits, gain 2^grade − 1 and discount
  log2(rank + 1), divided by the same for the best possible order of the relevant records.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence


def recall_at(ranked: Sequence[Hashable], relevant: Mapping[Hashable, int], k: int = 10) -> float:
    wanted = {key for key, grade in relevant.items() if grade > 0}
    if not wanted:
        return 0.0
    found = sum(1 for key in ranked[:k] if key in wanted)
    return found / min(len(wanted), k)


def dcg(grades: Sequence[int]) -> float:
    return float(sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades)))


def ndcg_at(ranked: Sequence[Hashable], relevant: Mapping[Hashable, int], k: int = 10) -> float:
    ideal = dcg(sorted((g for g in relevant.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([relevant.get(key, 0) for key in ranked[:k]]) / ideal
