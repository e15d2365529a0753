"""Sections of the portal start page, contributed by apps (work orders, help centre, …)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass
class Section:
    order: int
    template: str
    context: dict[str, Any]


SectionProvider = Callable[[HttpRequest], Section | None]
SECTION_PROVIDERS: list[SectionProvider] = []


def register_section(provider: SectionProvider) -> None:
    if provider not in SECTION_PROVIDERS:
        SECTION_PROVIDERS.append(provider)


def portal_sections(request: HttpRequest) -> list[Section]:
    sections = [s for p in SECTION_PROVIDERS if (s := p(request)) is not None]
    return sorted(sections, key=lambda s: s.order)
