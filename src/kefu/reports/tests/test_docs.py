"""docs/metrics.md lists exactly the metrics of the registry, with the same definitions."""

from __future__ import annotations

from pathlib import Path

from kefu.reports.metrics import METRICS, markdown_table

DOC = Path(__file__).resolve().parents[4] / "docs" / "metrics.md"


def test_docs_list_the_registry() -> None:
    text = DOC.read_text(encoding="utf-8")
    listed = text.split("<!-- metrics:start -->\n", 1)[1].split("<!-- metrics:end -->", 1)[0]
    assert listed == markdown_table(), "regenerate the table with metrics.markdown_table()"
    for metric_id in METRICS:
        assert f"| `{metric_id}` |" in listed
