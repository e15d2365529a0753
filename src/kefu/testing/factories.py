"""Factories for tests: small functions that build valid records with sensible defaults."""

from __future__ import annotations

import itertools
import json
from typing import Any

from django.test import Client

from kefu.accounts.models import AgentProfile, Membership, Team, User
from kefu.core.permissions import Role
from kefu.core.validation import normalize_phone
from kefu.customers.models import AccountNumber, ContactPoint, Customer, VipTier

PASSWORD = "Secret-pass-2026"
_seq = itertools.count(1)


def make_team(name: str | None = None, kind: str = Team.Kind.FRONTLINE, **fields: Any) -> Team:
    n = next(_seq)
    return Team.objects.create(
        name=name or f"团队{n}", code=fields.pop("code", f"team-{n}"), kind=kind, **fields
    )


def make_user(
    role: str = Role.AGENT_L1,
    *,
    username: str | None = None,
    password: str = PASSWORD,
    teams: list[Team] | tuple[Team, ...] = (),
    lead: bool = False,
    customer: Customer | None = None,
    **fields: Any,
) -> User:
    n = next(_seq)
    username = username or f"{role}-{n}"
    if role == Role.CUSTOMER and customer is None:
        customer = make_customer()
    user = User(
        username=username,
        display_name=fields.pop("display_name", f"测试用户{n}"),
        role=role,
        email=fields.pop("email", f"{username}@example.com"),
        customer=customer if role == Role.CUSTOMER else None,
        **fields,
    )
    user.set_password(password)
    user.save()
    if role in (Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR):
        AgentProfile.objects.create(user=user)
    for team in teams:
        Membership.objects.create(team=team, user=user, is_lead=lead)
    return user


def make_tier(code: str = "gold", name: str = "金卡", rank: int = 2, weight: int = 300) -> VipTier:
    tier, _created = VipTier.objects.get_or_create(
        code=code, defaults={"name": name, "rank": rank, "priority_weight": weight}
    )
    return tier


def make_customer(
    name: str = "张三",
    *,
    phone: str | None = None,
    email: str | None = None,
    account: str | None = None,
    kind: str = Customer.Kind.PERSON,
    **fields: Any,
) -> Customer:
    customer = Customer.objects.create(name=name, kind=kind, **fields)
    if phone:
        ContactPoint.objects.create(
            customer=customer,
            kind="phone",
            value=phone,
            normalized=normalize_phone(phone),
            is_primary=True,
        )
    if email:
        ContactPoint.objects.create(
            customer=customer, kind="email", value=email, normalized=email.lower(), is_primary=True
        )
    if account:
        AccountNumber.objects.create(customer=customer, number=account)
    return customer


def make_portal_user(
    customer: Customer | None = None, *, email: str | None = None, password: str = PASSWORD
) -> User:
    customer = customer or make_customer()
    n = next(_seq)
    return make_user(
        Role.CUSTOMER,
        username=f"c-{n}",
        customer=customer,
        email=email or f"portal{n}@example.com",
        password=password,
    )


class ApiClient:
    """JSON requests against /api/v1 as a user (session) or with a bearer token."""

    def __init__(self, user: User | None = None, token: str | None = None) -> None:
        self.client = Client(enforce_csrf_checks=False)
        self.headers: dict[str, str] = {}
        if user is not None:
            self.client.force_login(user)
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def _call(
        self, method: str, path: str, data: Any = None, raw: str | bytes | None = None, **extra: Any
    ) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        headers = {**self.headers, **extra.pop("headers", {})}
        if method == "get":
            return self.client.get(url, data or {}, headers=headers, **extra)
        body = raw if raw is not None else (json.dumps(data) if data is not None else "")
        return getattr(self.client, method)(
            url, body, content_type="application/json", headers=headers, **extra
        )

    def get(self, path: str, params: dict[str, Any] | None = None, **extra: Any) -> Any:
        return self._call("get", path, params, **extra)

    def post(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._call("post", path, data, **extra)

    def patch(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._call("patch", path, data, **extra)

    def put(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._call("put", path, data, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self._call("delete", path, None, **extra)


def ticket_type(code: str = "consultation") -> Any:
    from kefu.tickets.models import TicketType

    return TicketType.objects.get(code=code)


def make_ticket(
    *, actor: User | None = None, title: str = "停电报修", type_code: str = "fault", **fields: Any
) -> Any:
    """A work order opened through the real service (numbering, events, hooks)."""
    from kefu.tickets.services import create_ticket

    fields.setdefault("channel", "phone")
    return create_ticket(actor=actor, title=title, ticket_type=type_code, **fields)


def frontline_setup() -> dict[str, Any]:
    """A small centre: a first-line team with two agents, a second-line team with an engineer,
    a department with its liaison, a supervisor and an administrator."""
    from kefu.sla.defaults import install as install_sla
    from kefu.tickets.defaults import install

    install()  # transactional tests empty the tables the data migration filled
    install_sla()
    front = make_team("一线", kind=Team.Kind.FRONTLINE)
    second = make_team("二线", kind=Team.Kind.SECOND_LINE)
    dept = make_team("营销部", kind=Team.Kind.DEPARTMENT)
    other = make_team("其他一线", kind=Team.Kind.FRONTLINE)
    return {
        "front": front,
        "second": second,
        "dept": dept,
        "other": other,
        "agent": make_user(Role.AGENT_L1, username="agent-a", employee_no="A1001", teams=[front]),
        "agent2": make_user(Role.AGENT_L1, username="agent-b", employee_no="A1002", teams=[front]),
        "outsider": make_user(
            Role.AGENT_L1, username="agent-c", employee_no="A1003", teams=[other]
        ),
        "engineer": make_user(Role.AGENT_L2, username="eng", employee_no="B2001", teams=[second]),
        "liaison": make_user(Role.LIAISON, username="liaison", teams=[dept]),
        "supervisor": make_user(Role.SUPERVISOR, username="lead"),
        "admin": make_user(Role.ADMIN, username="root"),
    }
