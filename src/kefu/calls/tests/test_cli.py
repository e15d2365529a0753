"""`kefu calls import` and `kefu calls kpi` through the command's own entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.calls.cli import main

pytestmark = pytest.mark.django_db


def test_import_names_rejected_lines_by_file_and_line_and_a_second_run_adds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "queue_log"
    log.write_text(
        "1700000100|c1|hotline|NONE|ENTERQUEUE||13800138000|1\n"
        "1700000110|c1|hotline|SIP/8001|CONNECT|soon|x|3\n"
        "1700000110|c1|hotline|SIP/8001|CONNECT|10|x|3\n"
        "1700000300|c1|hotline|SIP/8001|COMPLETECALLER|10|190|1\n"
    )
    assert main(["import", "--format", "queue_log", str(log)]) == 1
    out = capsys.readouterr().out
    assert f"{log}: 4 lines, 3 added, 0 already there, 1 rejected; 1 calls" in out
    assert f"  {log}:2: CONNECT: holdtime is not a whole number ('soon')" in out
    assert main(["import", "--format", "queue_log", str(log)]) == 1
    assert (
        f"{log}: 4 lines, 0 added, 3 already there, 1 rejected; 0 calls" in capsys.readouterr().out
    )


def test_kpi_prints_days_hours_and_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "queue_log"
    log.write_text(
        "1700000100|c1|hotline|NONE|ENTERQUEUE||13800138000|1\n"
        "1700000110|c1|hotline|SIP/8001|CONNECT|10|x|3\n"
        "1700000300|c1|hotline|SIP/8001|COMPLETECALLER|10|190|1\n"
    )
    assert main(["import", "--format", "queue_log", str(log)]) == 0
    capsys.readouterr()
    assert main(["kpi", "--from", "2023-11-15", "--to", "2023-11-15", "--tz", "Asia/Shanghai"]) == 0
    out = capsys.readouterr().out
    # 1700000100 is 2023-11-15 06:15:00 in Shanghai
    assert "2023-11-15 Wed" in out and "06:00" in out
    total = out.split("total\n", 1)[1].splitlines()[1].split()
    assert total[:7] == ["all", "1", "1", "0", "100.0%", "0.0%", "10.0"]


def test_missing_file_and_bad_dates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "--format", "bank", str(tmp_path / "nope.tsv")]) == 2
    assert f"{tmp_path / 'nope.tsv'}: no such file" in capsys.readouterr().err
    assert main(["kpi", "--from", "2024-03-02", "--to", "2024-03-01"]) == 2
    assert "--to is before --from" in capsys.readouterr().err
