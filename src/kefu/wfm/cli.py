"""`kefu wfm ...`: workforce-management commands that need no database.

kefu wfm backtest --data FILE [--interval 30] [--horizon 7] [--origins 2]
    Backtest the default forecast and the weekly seasonal naive baseline on a call-by-call log
    in the Anonymous Bank format; prints MASE and WAPE of each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kefu.wfm import bank, forecast


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kefu wfm", description="Workforce management")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("backtest", help="forecast accuracy on a call log against the baseline")
    p.add_argument("--data", required=True, type=Path, help="call-by-call log (TSV)")
    p.add_argument("--interval", type=int, default=30, choices=(15, 30, 60))
    p.add_argument("--horizon", type=int, default=7, help="days forecast from each origin")
    p.add_argument("--origins", type=int, default=2, help="forecast origins, one horizon apart")
    return parser


def backtest(args: argparse.Namespace) -> int:
    if not args.data.is_file():
        print(f"kefu wfm: {args.data}: no such file", file=sys.stderr)
        return 2
    try:
        log = bank.read_bank_log(args.data)
        series = log.series(args.interval)
        result = forecast.backtest(series, horizon_days=args.horizon, origins=args.origins)
    except ValueError as exc:
        print(f"kefu wfm: {exc}", file=sys.stderr)
        return 2
    first, last = series.day(0), series.day(series.days - 1)
    print(f"data: {args.data} — {len(log.calls)} calls that asked for an agent, {first} to {last}")
    origins = ", ".join(str(o) for o in result.origins)
    print(
        f"backtest: {args.interval}-minute intervals, {args.horizon}-day horizon from {origins}; "
        "MASE scaled by the weekly seasonal naive error before the first origin"
    )
    print(f"{'model':<28}{'MASE':>8}{'WAPE':>9}")
    for score in result.scores:
        label = "default (Poisson GLM)" if score.model == forecast.DEFAULT_MODEL else (
            "baseline (weekly naive)")  # fmt: skip
        print(f"{label:<28}{score.mase:>8.3f}{score.wape:>8.1%}")
    best = result.score(forecast.DEFAULT_MODEL).mase < result.score("seasonal_naive").mase
    print("the default model beats the baseline" if best else "the baseline wins")
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "backtest":
        return backtest(args)
    return 2
