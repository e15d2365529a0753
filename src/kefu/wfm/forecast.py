"""Contact-volume forecasts per interval, their backtest, and the weekly seasonal naive baseline.

Pure maths, no Django. A :class:`Series` is a run of whole days of counts per 15- or 30-minute
interval, starting at local midnight in the centre's time zone.

The default model is a Poisson regression (statsmodels GLM, log link) of the count in each
interval on

* a level per kind of day — each weekday, statutory holidays, and make-up working days (调休,
  which behave like a Monday),
* an intraday profile per group of day kinds that share opening hours (a bank open Sunday to
  Thursday 07–24, Friday mornings and Saturday evenings has three groups; a 7×24 hotline one),
* a linear trend in weeks.

Pooling the intraday shape over the days of a group is what beats the weekly seasonal naive
forecast, which copies one noisy week. Slots a group never had a contact in are closed (forecast
0). Planner overrides then scale windows (+X % for a planned-outage notice, a weather alert).
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

FloatArray = npt.NDArray[np.float64]

MIN_OPEN_SHARE = 0.0  # a slot is open for a group if any of its history had a contact


class DayCalendar(Protocol):
    def holiday(self, day: dt.date) -> bool: ...

    def makeup_workday(self, day: dt.date) -> bool: ...


class NoHolidays:
    """A calendar with ordinary weeks only (the bank's 1999 log is from Israel)."""

    def holiday(self, day: dt.date) -> bool:
        return False

    def makeup_workday(self, day: dt.date) -> bool:
        return False


class ChinaCalendar:
    """Statutory holidays and make-up working days (调休) from ``chinesecalendar``."""

    def holiday(self, day: dt.date) -> bool:
        import chinese_calendar

        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return False
        return bool(on_holiday and name is not None)

    def makeup_workday(self, day: dt.date) -> bool:
        import chinese_calendar

        try:
            return bool(chinese_calendar.is_workday(day) and day.weekday() >= 5)
        except NotImplementedError:
            return False


@dataclass(frozen=True)
class Series:
    """Counts per interval; ``start`` is an aware local midnight; whole days only."""

    start: dt.datetime
    interval_minutes: int
    values: FloatArray

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("series start must be timezone-aware")
        if self.interval_minutes not in (15, 30, 60):
            raise ValueError("interval must be 15, 30 or 60 minutes")
        if self.values.ndim != 1 or self.values.size % self.slots_per_day:
            raise ValueError("a series holds whole days of intervals")
        if np.any(self.values < 0) or not np.all(np.isfinite(self.values)):
            raise ValueError("counts must be finite and not negative")

    @property
    def slots_per_day(self) -> int:
        return 1440 // self.interval_minutes

    @property
    def days(self) -> int:
        return self.values.size // self.slots_per_day

    def day(self, index: int) -> dt.date:
        return self.start.date() + dt.timedelta(days=index)

    def head(self, days: int) -> Series:
        return Series(self.start, self.interval_minutes, self.values[: days * self.slots_per_day])

    def window(self, first_day: int, days: int) -> Series:
        spd = self.slots_per_day
        return Series(
            self.start + dt.timedelta(days=first_day),
            self.interval_minutes,
            self.values[first_day * spd : (first_day + days) * spd],
        )


@dataclass(frozen=True)
class Override:
    """Scale the forecast by (1 + percent/100) from ``start`` (inclusive) to ``end``."""

    start: dt.datetime
    end: dt.datetime
    percent: float

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("override times must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("an override ends after it starts")
        if self.percent <= -100:
            raise ValueError("an override cannot remove more than all of the volume")


def day_kind(day: dt.date, calendar: DayCalendar) -> str:
    if calendar.holiday(day):
        return "holiday"
    if calendar.makeup_workday(day):
        return "wd0"
    return f"wd{day.weekday()}"


# --- Models ---------------------------------------------------------------------------------


def seasonal_naive(history: Series, days: int) -> FloatArray:
    """The weekly seasonal naive forecast: each future interval repeats the one a week before."""
    spd = history.slots_per_day
    season = 7 * spd
    if history.values.size < season:
        raise ValueError("the seasonal naive forecast needs at least one week of history")
    last = history.values[-season:]
    reps = math.ceil(days * spd / season)
    return np.tile(last, reps)[: days * spd].astype(np.float64)


@dataclass
class _Design:
    kinds: list[str]
    group_of: dict[str, int]
    open_slots: list[npt.NDArray[np.bool_]]
    slot_col: dict[tuple[int, int], int] = field(default_factory=dict)
    level_col: dict[str, int] = field(default_factory=dict)


def _groups(
    history: Series, kinds: list[str]
) -> tuple[dict[str, int], list[npt.NDArray[np.bool_]]]:
    """Group day kinds whose open slots mostly coincide (Jaccard ≥ 0.8)."""
    spd = history.slots_per_day
    by_day = history.values.reshape(history.days, spd)
    open_by_kind: dict[str, npt.NDArray[np.bool_]] = {}
    for kind in sorted(set(kinds)):
        rows = by_day[[i for i, k in enumerate(kinds) if k == kind]]
        open_by_kind[kind] = rows.sum(axis=0) > MIN_OPEN_SHARE
    group_of: dict[str, int] = {}
    masks: list[npt.NDArray[np.bool_]] = []
    for kind, mask in open_by_kind.items():
        for g, gmask in enumerate(masks):
            union = np.logical_or(mask, gmask).sum()
            inter = np.logical_and(mask, gmask).sum()
            if union and inter / union >= 0.8:
                group_of[kind] = g
                masks[g] = np.logical_or(gmask, mask)
                break
        else:
            group_of[kind] = len(masks)
            masks.append(mask.copy())
    return group_of, masks


def _design_rows(
    design: _Design, kinds: Sequence[str], spd: int, day_offset: int, trend: bool
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Design matrix rows for the given days, and a mask of open (modelled) slots."""
    ncol = len(design.slot_col) + len(design.level_col) + (1 if trend else 0)
    rows = np.zeros((len(kinds) * spd, ncol))
    open_mask = np.zeros(len(kinds) * spd, dtype=bool)
    for d, kind in enumerate(kinds):
        g = design.group_of[kind]
        level = design.level_col.get(kind)
        for s in range(spd):
            if not design.open_slots[g][s]:
                continue
            r = d * spd + s
            open_mask[r] = True
            rows[r, design.slot_col[(g, s)]] = 1.0
            if level is not None:
                rows[r, level] = 1.0
            if trend:
                rows[r, -1] = (day_offset + d) / 7.0
    return rows, open_mask


def _fit_kind(kind: str, design: _Design) -> str:
    """The fitted kind a future day borrows when its own kind has no history."""
    if kind in design.group_of:
        return kind
    if kind == "holiday":
        kind = "wd6"
    if kind in design.group_of:
        return kind
    return design.kinds[-1]


def glm_forecast(
    history: Series,
    days: int,
    *,
    calendar: DayCalendar | None = None,
    trend: bool = True,
) -> FloatArray:
    """The default model (see the module docstring): ``days`` days after ``history``."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    cal = calendar or NoHolidays()
    spd = history.slots_per_day
    kinds = [day_kind(history.day(i), cal) for i in range(history.days)]
    group_of, masks = _groups(history, kinds)
    design = _Design(kinds=sorted(set(kinds)), group_of=group_of, open_slots=masks)
    ncol = 0
    for g, mask in enumerate(masks):
        for s in np.nonzero(mask)[0]:
            design.slot_col[(g, int(s))] = ncol
            ncol += 1
        members = sorted(k for k, gg in group_of.items() if gg == g)
        for kind in members[1:]:  # the first kind of a group is its reference level
            design.level_col[kind] = ncol
            ncol += 1
    use_trend = trend and history.days >= 14
    x, open_mask = _design_rows(design, kinds, spd, 0, use_trend)
    y = history.values
    xo, yo = x[open_mask], y[open_mask]
    # A small least-squares problem per iteration: BLAS threads only contend with each other.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # a slot that is exactly 0 on some days of an open group "separates": its estimate is
        # just very small, which is the right forecast
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        result = sm.GLM(yo, xo, family=sm.families.Poisson()).fit(maxiter=100)
    params = np.asarray(result.params, dtype=np.float64)
    future_kinds = [
        _fit_kind(day_kind(history.day(history.days + i), cal), design) for i in range(days)
    ]
    xf, open_f = _design_rows(design, future_kinds, spd, history.days, use_trend)
    out = np.zeros(days * spd)
    with np.errstate(over="ignore"):
        out[open_f] = np.exp(np.clip(xf[open_f] @ params, -50.0, 50.0))
    return out


MODELS: dict[str, Callable[[Series, int, DayCalendar | None], FloatArray]] = {
    "glm": lambda h, d, c: glm_forecast(h, d, calendar=c),
    "seasonal_naive": lambda h, d, c: seasonal_naive(h, d),
}
DEFAULT_MODEL = "glm"


def forecast(
    history: Series,
    days: int,
    *,
    model: str = DEFAULT_MODEL,
    calendar: DayCalendar | None = None,
    overrides: Sequence[Override] = (),
) -> Series:
    """Forecast ``days`` whole days after ``history``, with planner overrides applied."""
    if days < 1:
        raise ValueError("forecast at least one day")
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if history.days < 7:
        raise ValueError("a forecast needs at least one week of history")
    values = MODELS[model](history, days, calendar)
    start = history.start + dt.timedelta(days=history.days)
    return Series(start, history.interval_minutes, apply_overrides(
        values, start, history.interval_minutes, overrides))  # fmt: skip


def apply_overrides(
    values: FloatArray,
    start: dt.datetime,
    interval_minutes: int,
    overrides: Sequence[Override],
) -> FloatArray:
    """Multiply each interval that starts inside an override's window by its factor."""
    out = values.astype(np.float64).copy()
    step = dt.timedelta(minutes=interval_minutes)
    for ov in overrides:
        first = max(0, math.ceil((ov.start - start) / step))
        last = min(out.size, math.ceil((ov.end - start) / step))
        if first < last:
            out[first:last] *= 1.0 + ov.percent / 100.0
    return out


# --- Accuracy -------------------------------------------------------------------------------


def wape(actual: FloatArray, predicted: FloatArray) -> float:
    """Weighted absolute percentage error: Σ|actual − predicted| / Σ actual."""
    total = float(np.sum(np.abs(actual)))
    if total == 0:
        raise ValueError("WAPE is undefined when nothing happened")
    return float(np.sum(np.abs(actual - predicted)) / total)


def mase(actual: FloatArray, predicted: FloatArray, train: FloatArray, season: int) -> float:
    """Mean absolute scaled error (Hyndman & Koehler 2006): the forecast's MAE divided by the
    in-sample MAE of the seasonal naive forecast with period ``season``."""
    if train.size <= season:
        raise ValueError("MASE needs more than one season of training data")
    scale = float(np.mean(np.abs(train[season:] - train[:-season])))
    if scale == 0:
        raise ValueError("MASE is undefined for a training series that repeats exactly")
    return float(np.mean(np.abs(actual - predicted)) / scale)


@dataclass(frozen=True)
class Score:
    model: str
    mase: float
    wape: float


@dataclass(frozen=True)
class Backtest:
    """Rolling-origin backtest: each origin forecasts the next ``horizon_days`` from all the
    history before it; MASE and WAPE are over all origins' forecasts together, the MASE scale
    being the in-sample weekly naive error of the history before the first origin."""

    origins: list[dt.date]
    horizon_days: int
    scores: list[Score]

    def score(self, model: str) -> Score:
        return next(s for s in self.scores if s.model == model)


def backtest(
    series: Series,
    *,
    horizon_days: int = 7,
    origins: int = 2,
    models: Sequence[str] = (DEFAULT_MODEL, "seasonal_naive"),
    calendar: DayCalendar | None = None,
) -> Backtest:
    spd = series.slots_per_day
    first_origin = series.days - origins * horizon_days
    if first_origin < 14:
        raise ValueError(
            f"{series.days} days are too few for {origins} origins of {horizon_days} days "
            "(at least two weeks of history before the first)"
        )
    starts = [first_origin + i * horizon_days for i in range(origins)]
    actual = np.concatenate([series.values[o * spd : (o + horizon_days) * spd] for o in starts])
    scale_train = series.values[: first_origin * spd]
    scores = []
    for name in models:
        if name not in MODELS:
            raise ValueError(f"unknown model {name!r}")
        predicted = np.concatenate(
            [MODELS[name](series.head(o), horizon_days, calendar) for o in starts]
        )
        scores.append(
            Score(name, mase(actual, predicted, scale_train, 7 * spd), wape(actual, predicted))
        )
    return Backtest([series.day(o) for o in starts], horizon_days, scores)
