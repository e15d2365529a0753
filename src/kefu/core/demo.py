"""The demo-data entry point: every app adds its records through :func:`seeder`.

``kefu demo`` calls :func:`seed_demo` once per database; it is recorded in SiteSetting so a
restart does not add the data twice. Seeders run in ``order`` and share a :class:`DemoContext`
(a seeded random generator, a fixed "now", and whatever earlier seeders stored for later ones).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from kefu.core.context import origin
from kefu.core.models import SiteSetting

log = logging.getLogger(__name__)

DEMO_PASSWORD = "Kefu@2026"
MARKER = "demo_data"


@dataclass
class DemoContext:
    rng: random.Random
    now: dt.datetime
    scale: float = 1.0
    data: dict[str, Any] = field(default_factory=dict)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # (role, login, password)


Seeder = Callable[[DemoContext], None]
SEEDERS: list[tuple[int, str, Seeder]] = []


def seeder(order: int) -> Callable[[Seeder], Seeder]:
    def register(func: Seeder) -> Seeder:
        name = f"{func.__module__}.{func.__name__}"
        if all(existing != name for _o, existing, _f in SEEDERS):
            SEEDERS.append((order, name, func))
        return func

    return register


def _load_demo_modules() -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("kefu."):
            continue
        try:
            importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise


def demo_loaded() -> dict[str, Any] | None:
    row = SiteSetting.objects.filter(key=MARKER).first()
    return row.value if row else None


def seed_demo(
    *, seed: int = 20261123, scale: float = 1.0, progress: Callable[[str], None] | None = None
) -> DemoContext | None:
    """Load the demo centre unless it is already loaded. Returns the context, or None."""
    if demo_loaded() is not None:
        return None
    _load_demo_modules()
    ctx = DemoContext(rng=random.Random(seed), now=timezone.now(), scale=scale)
    with origin("cli"):
        for _order, name, func in sorted(SEEDERS, key=lambda s: s[0]):
            if progress:
                progress(name.rsplit(".", 2)[-3] if name.count(".") >= 2 else name)
            with transaction.atomic():
                func(ctx)
        with transaction.atomic():
            SiteSetting.objects.update_or_create(
                key=MARKER,
                defaults={
                    "value": {"seed": seed, "at": ctx.now.isoformat(), "accounts": ctx.accounts}
                },
            )
    return ctx


def demo_accounts() -> list[tuple[str, str, str]]:
    info = demo_loaded() or {}
    return [tuple(a) for a in info.get("accounts", [])]
