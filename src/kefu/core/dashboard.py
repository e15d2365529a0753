"""Cards on the staff start page. Each app contributes the cards that matter to a role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass
class Card:
    order: int
    template: str
    context: dict[str, Any]
    width: int = 6  # Bootstrap columns out of 12


CardProvider = Callable[[HttpRequest], Card | None]
CARD_PROVIDERS: list[CardProvider] = []


def register_card(provider: CardProvider) -> CardProvider:
    if provider not in CARD_PROVIDERS:
        CARD_PROVIDERS.append(provider)
    return provider


def dashboard_cards(request: HttpRequest) -> list[Card]:
    cards = [card for provider in CARD_PROVIDERS if (card := provider(request)) is not None]
    return sorted(cards, key=lambda c: c.order)
