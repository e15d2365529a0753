"""Who may do what: every role's permissions, in one table.

Views, API endpoints, consumers, exports and jobs call :func:`has_perm` / :func:`require_perm`
with a permission code; object-level checks (which customer, which work order) live in each
app's ``access.py`` and build on these. API tokens narrow a user's permissions to the token's
scopes: a request made with a token can do what the user can do *and* the token allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor (shift leader)")
    AGENT_L1 = "agent_l1", _("Agent, first line")
    AGENT_L2 = "agent_l2", _("Agent, second line / engineer")
    QA = "qa", _("Quality inspector")
    PLANNER = "planner", _("Workforce planner")
    LIAISON = "liaison", _("Department liaison")
    CUSTOMER = "customer", _("Customer")


STAFF_ROLES = frozenset(r for r in Role if r != Role.CUSTOMER)
AGENT_ROLES = frozenset({Role.AGENT_L1, Role.AGENT_L2})


@dataclass(frozen=True)
class Perm:
    code: str
    scope: str  # the API-token scope that grants it
    label: Any


_PERMS: tuple[Perm, ...] = (
    Perm("admin_site", "admin", _("Open the configuration admin site")),
    Perm("config.manage", "admin", _("Change configuration (tiers, skills, calendars, …)")),
    Perm("audit.view", "audit:read", _("Read the audit log")),
    Perm("users.view", "users:read", _("See staff accounts")),
    Perm("users.manage", "users:write", _("Create, change and deactivate accounts")),
    Perm("teams.view", "users:read", _("See teams")),
    Perm("teams.manage", "users:write", _("Create and change teams")),
    Perm("customers.view", "customers:read", _("See customers")),
    Perm("customers.edit", "customers:write", _("Create and change customers")),
    Perm("customers.merge", "customers:write", _("Merge duplicate customers")),
    Perm("customers.delete", "customers:write", _("Archive customers")),
    Perm("tokens.own", "tokens", _("Create personal API tokens")),
)
PERMS: dict[str, Perm] = {p.code: p for p in _PERMS}

SCOPES: dict[str, Any] = {
    "customers:read": _("Read customers and organisations"),
    "customers:write": _("Create, change, merge and archive customers"),
    "users:read": _("Read users and teams"),
    "users:write": _("Manage users and teams"),
    "audit:read": _("Read the audit log"),
    "admin": _("Change configuration"),
}

_ALL = frozenset(PERMS)
_AGENT = frozenset({"teams.view", "customers.view", "customers.edit", "tokens.own"})

ROLE_PERMS: dict[str, frozenset[str]] = {
    Role.ADMIN: _ALL,
    Role.SUPERVISOR: _AGENT | {"users.view", "customers.merge"},
    Role.AGENT_L1: _AGENT,
    Role.AGENT_L2: _AGENT | {"customers.merge"},
    Role.QA: frozenset({"teams.view", "users.view", "customers.view", "tokens.own"}),
    Role.PLANNER: frozenset({"teams.view", "users.view", "tokens.own"}),
    Role.LIAISON: frozenset({"teams.view"}),
    Role.CUSTOMER: frozenset(),
}


def register(perm: Perm, roles: Iterable[str]) -> None:
    """Add a permission for a domain app and grant it to ``roles`` (administrators always)."""
    PERMS[perm.code] = perm
    for role in Role:
        granted = ROLE_PERMS[role]
        if role == Role.ADMIN or role in roles:
            ROLE_PERMS[role] = granted | {perm.code}


def role_perms(role: str) -> frozenset[str]:
    return ROLE_PERMS.get(role, frozenset())


def has_perm(user: Any, code: str) -> bool:
    """Whether ``user`` (as authenticated for this request) holds permission ``code``."""
    if code not in PERMS:
        raise KeyError(f"unknown permission {code!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if code not in role_perms(user.role):
        return False
    scopes: frozenset[str] | None = getattr(user, "token_scopes", None)
    return scopes is None or PERMS[code].scope in scopes


def require_perm(user: Any, code: str) -> None:
    if not has_perm(user, code):
        raise PermissionDenied(_("You do not have permission to do this."))


def require_perm_unless_system(actor: Any, code: str) -> None:
    """``actor`` None is Kefu itself (SLA escalations, routing, automations): internal callers
    only, never a request's user, which is always an object."""
    if actor is not None:
        require_perm(actor, code)


def is_staff_user(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.role in STAFF_ROLES
    )


def require_staff(user: Any) -> None:
    if not is_staff_user(user):
        raise PermissionDenied(_("This page is for service-centre staff."))
