"""Forecast maths: accuracy measures by hand, the baseline, the model, overrides, the bank data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from kefu.wfm import bank, forecast
from kefu.wfm.forecast import ChinaCalendar, Override, Series

SH = ZoneInfo("Asia/Shanghai")
BANK = Path(__file__).resolve().parents[5] / "shared" / "data" / "anonymous-bank-1999-02.tsv"


def _series(values, start=dt.datetime(2026, 3, 2, tzinfo=SH), interval=60):
    return Series(start, interval, np.asarray(values, dtype=np.float64))


def test_wape_and_mase_by_hand():
    actual = np.array([10.0, 20.0, 30.0])
    predicted = np.array([12.0, 18.0, 33.0])
    # WAPE = (2 + 2 + 3) / 60
    assert forecast.wape(actual, predicted) == pytest.approx(7 / 60)
    # scale: mean |train[t] − train[t−2]| over [1, 2, 4, 8] = (3 + 6) / 2 = 4.5; MAE = 7/3
    train = np.array([1.0, 2.0, 4.0, 8.0])
    assert forecast.mase(actual, predicted, train, 2) == pytest.approx((7 / 3) / 4.5)
    with pytest.raises(ValueError, match="undefined"):
        forecast.wape(np.zeros(3), predicted)


def test_seasonal_naive_repeats_last_week():
    values = np.arange(24 * 14, dtype=float)
    out = forecast.seasonal_naive(_series(values), 2)
    assert out.tolist() == values[24 * 7 : 24 * 9].tolist()


def test_glm_recovers_a_clean_weekly_pattern():
    # given four weeks where every weekday has the same shape, weekends half of it, closed 0–6h
    shape = np.array(
        [0] * 6 + [10, 20, 40, 40, 30, 20, 20, 30, 40, 30, 20, 10, 10, 5, 5, 5, 2, 1.0]
    )
    days = [shape * (0.5 if d % 7 >= 5 else 1.0) for d in range(28)]
    history = _series(np.concatenate(days))
    # when
    fc = forecast.forecast(history, 7)
    # then the next week is the same pattern, closed hours stay 0
    expected = np.concatenate(days[:7])
    assert fc.start == dt.datetime(2026, 3, 30, tzinfo=SH)
    assert np.allclose(fc.values, expected, rtol=1e-6, atol=1e-6)
    assert fc.values[:6].tolist() == [0.0] * 6


def test_chinese_holidays_and_makeup_days():
    cal = ChinaCalendar()
    assert forecast.day_kind(dt.date(2026, 10, 1), cal) == "holiday"  # National Day
    # 2026-01-04 (Sunday) is a make-up working day (调休) for New Year: it acts as a Monday
    assert forecast.day_kind(dt.date(2026, 1, 4), cal) == "wd0"
    assert forecast.day_kind(dt.date(2026, 3, 7), cal) == "wd5"


def test_overrides_scale_their_window_only():
    start = dt.datetime(2026, 3, 2, tzinfo=SH)
    ov = Override(start + dt.timedelta(hours=9), start + dt.timedelta(hours=11), 50)
    out = forecast.apply_overrides(np.full(24, 10.0), start, 60, [ov])
    assert out[8:12].tolist() == [10.0, 15.0, 15.0, 10.0]
    assert out.sum() == 250.0
    with pytest.raises(ValueError, match="ends after"):
        Override(start, start, 10)


def test_forecast_refuses_short_history_and_unknown_models():
    with pytest.raises(ValueError, match="one week"):
        forecast.forecast(_series(np.ones(24 * 3)), 1)
    with pytest.raises(ValueError, match="unknown model"):
        forecast.forecast(_series(np.ones(24 * 14)), 1, model="prophecy")
    with pytest.raises(ValueError, match="whole days"):
        _series(np.ones(25))


@pytest.mark.skipif(not BANK.exists(), reason="the bank call log is not present")
def test_default_model_beats_the_baseline_on_the_bank_log():
    # given February 1999 of the Anonymous Bank, agent-offered calls per 30 minutes
    log = bank.read_bank_log(BANK)
    series = log.series(30)
    # when forecasting the third and fourth weeks from everything before each
    result = forecast.backtest(series)
    # then
    glm, naive = result.score("glm"), result.score("seasonal_naive")
    assert len(log.calls) == 31125
    assert result.origins == [dt.date(1999, 2, 15), dt.date(1999, 2, 22)]
    assert round(naive.mase, 3) == 0.872
    assert round(glm.mase, 3) == 0.585
    assert glm.mase < naive.mase and glm.wape < naive.wape


def test_bank_reader_names_file_and_line(tmp_path):
    path = tmp_path / "log.tsv"
    header = "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\n"
    good = "AA0101\t1\t0\t0\tPS\t990201\t7:02:47\t7:02:56\t9\t7:02:56\t7:03:10\t14\tAGENT\t7:03:10\t7:05:41\t151\tDORIT\n"
    bad = "AA0101\t2\t0\t0\tPS\t990201\t7:02:47\t7:99:56\t9\t7:02:56\t7:03:10\t14\tAGENT\t7:03:10\t7:05:41\t151\tDORIT\n"
    path.write_text(header + good + bad)
    with pytest.raises(bank.LogError, match=r"log\.tsv:3: time '7:99:56'"):
        bank.read_bank_log(path)
    path.write_text(header + good)
    log = bank.read_bank_log(path)
    assert log.calls == [bank.Call(dt.date(1999, 2, 1), 7 * 3600 + 2 * 60 + 56, True, 14, 151)]


@pytest.mark.skipif(not BANK.exists(), reason="the bank call log is not present")
def test_backtest_command_prints_mase_of_model_and_baseline(capsys):
    from kefu.cli import main

    assert main(["wfm", "backtest", "--data", str(BANK)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-3].split() == ["default", "(Poisson", "GLM)", "0.585", "20.5%"]
    assert out[-2].split() == ["baseline", "(weekly", "naive)", "0.872", "30.5%"]
    assert out[-1] == "the default model beats the baseline"


def test_backtest_command_names_a_missing_or_bad_file(tmp_path, capsys):
    from kefu.cli import main

    assert main(["wfm", "backtest", "--data", str(tmp_path / "none.tsv")]) == 2
    assert capsys.readouterr().err.strip().endswith("none.tsv: no such file")
    bad = tmp_path / "bad.tsv"
    bad.write_text("date\tvru_exit\n990201\t7:00:00\n")
    assert main(["wfm", "backtest", "--data", str(bad)]) == 2
    assert (
        "bad.tsv:1: missing columns q_start, q_time, outcome, ser_time" in capsys.readouterr().err
    )
