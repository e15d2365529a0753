"""The navigation menu: each app registers its entries with the permission that shows them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Any
    url_name: str
    icon: str
    section: str  # work | manage | admin
    order: int = 100
    perm: str | None = None
    visible: Callable[[Any], bool] | None = None

    @property
    def url(self) -> str:
        return reverse(self.url_name)


SECTIONS = ("work", "manage", "admin")
NAV: list[NavItem] = []


def register_nav(*items: NavItem) -> None:
    for item in items:
        if all(existing.key != item.key for existing in NAV):
            NAV.append(item)


def nav_for(user: Any) -> list[tuple[str, list[NavItem]]]:
    from kefu.core.permissions import has_perm

    result = []
    for section in SECTIONS:
        items = [
            item
            for item in sorted(NAV, key=lambda i: i.order)
            if item.section == section
            and (item.perm is None or has_perm(user, item.perm))
            and (item.visible is None or item.visible(user))
        ]
        if items:
            result.append((section, items))
    return result


TOPBAR: list[tuple[str, Callable[[Any], bool]]] = []
"""Templates shown in the staff top bar (e.g. the agent's presence), each with who sees it."""


def register_topbar(template: str, visible: Callable[[Any], bool]) -> None:
    if all(t != template for t, _v in TOPBAR):
        TOPBAR.append((template, visible))


def topbar_for(user: Any) -> list[str]:
    return [template for template, visible in TOPBAR if visible(user)]


PORTAL_NAV: list[tuple[int, str, Any, str]] = []  # (order, key, label, url name)


def register_portal_nav(order: int, key: str, label: Any, url_name: str) -> None:
    """Add an entry to the customer portal's menu."""
    if all(k != key for _o, k, _l, _u in PORTAL_NAV):
        PORTAL_NAV.append((order, key, label, url_name))
        PORTAL_NAV.sort(key=lambda item: item[0])
