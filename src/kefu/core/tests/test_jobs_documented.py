"""Every periodic job is listed in the operations guide, so an operator knows what beat runs."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps


def test_every_periodic_job_is_in_the_operations_guide() -> None:
    for config in apps.get_app_configs():
        try:
            __import__(f"{config.name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.tasks":
                raise
    from kefu.core.jobs import PERIODIC

    guide = (Path(__file__).resolve().parents[4] / "docs" / "operations.md").read_text("utf-8")
    missing = sorted(name for name in PERIODIC if f"`{name}`" not in guide)
    assert PERIODIC and not missing, f"add these to docs/operations.md: {missing}"
