"""Every periodic job is listed in the operations guide, so an operator knows what beat runs."""

from __future__ import annotations

from pathlib import Path


def test_every_periodic_job_is_in_the_operations_guide() -> None:
    from kefu.core.jobs import load_periodic

    jobs = load_periodic()

    guide = (Path(__file__).resolve().parents[4] / "docs" / "operations.md").read_text("utf-8")
    missing = sorted(name for name in jobs if f"`{name}`" not in guide)
    assert jobs and not missing, f"add these to docs/operations.md: {missing}"
