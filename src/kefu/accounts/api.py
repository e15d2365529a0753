"""/api/v1: the current user, users, teams, skills and personal API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from kefu.accounts import services
from kefu.accounts.models import AgentProfile, ApiToken, Membership, Skill, Team, User
from kefu.core.api_base import Input, Out, SessionAuth
from kefu.core.pagination import SortKey, paginate
from kefu.core.permissions import PERMS, Role, has_perm, require_perm, role_perms
from kefu.core.validation import BodyId, PathId

router = Router(tags=["users and teams"])

USER_SORT = {
    "id": SortKey("id", "int"),
    "username": SortKey("username"),
    "display_name": SortKey("display_name"),
    "date_joined": SortKey("date_joined", "datetime"),
}
TEAM_SORT = {"id": SortKey("id", "int"), "name": SortKey("name")}

RoleName = Literal["admin", "supervisor", "agent_l1", "agent_l2", "qa", "planner", "liaison"]
TeamKind = Literal["frontline", "second_line", "qa", "planning", "department", "other"]


class TeamRef(Out):
    id: int
    name: str
    code: str
    is_lead: bool = False


class SkillOut(Out):
    id: int
    code: str
    name: str
    level: int | None = None


class ProfileOut(Out):
    skills: list[SkillOut]
    languages: list[str]
    channels: list[str]
    capacity: dict[str, int]
    extension: str


class UserOut(Out):
    id: int
    username: str
    display_name: str
    role: str
    employee_no: str
    email: str
    phone: str
    language: str
    is_active: bool
    date_joined: dt.datetime
    last_login: dt.datetime | None
    teams: list[TeamRef]
    agent_profile: ProfileOut | None


def user_out(user: User) -> dict[str, Any]:
    memberships = getattr(user, "prefetched_memberships", None)
    if memberships is None:
        memberships = list(user.memberships.select_related("team"))
    profile: AgentProfile | None = (
        getattr(user, "agent_profile", None) if hasattr(user, "agent_profile") else None
    )
    profile_out = None
    if profile is not None:
        profile_out = {
            "skills": [
                {"id": s.skill.pk, "code": s.skill.code, "name": s.skill.name, "level": s.level}
                for s in profile.agent_skills.all()
            ],
            "languages": profile.languages,
            "channels": profile.channels,
            "capacity": profile.capacity,
            "extension": profile.extension,
        }
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "employee_no": user.employee_no,
        "email": user.email,
        "phone": user.phone,
        "language": user.language,
        "is_active": user.is_active,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "teams": [
            {"id": m.team.pk, "name": m.team.name, "code": m.team.code, "is_lead": m.is_lead}
            for m in memberships
        ],
        "agent_profile": profile_out,
    }


def _users_with_details() -> Any:
    return (
        User.objects.exclude(role=Role.CUSTOMER)
        .select_related("agent_profile")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("team"),
                to_attr="prefetched_memberships",
            ),
            "agent_profile__agent_skills__skill",
        )
    )


class MeOut(UserOut):
    permissions: list[str]
    token_scopes: list[str] | None


@router.get("/me", response=MeOut, summary="The signed-in user or token owner")
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    scopes = getattr(user, "token_scopes", None)
    perms = sorted(p for p in role_perms(user.role) if has_perm(user, p))
    return {
        **user_out(user),
        "permissions": perms,
        "token_scopes": sorted(scopes) if scopes is not None else None,
    }


class UserPage(Out):
    items: list[UserOut]
    next_cursor: str | None


class UserFilters(Schema):
    q: str = Field(
        "", max_length=100, description="Part of the name, user name, employee number or e-mail"
    )
    role: RoleName | None = None
    team: PathId | None = Field(None, description="Team id")
    active: bool | None = None
    sort: str = Field(
        "display_name",
        description="id, username, display_name, date_joined; prefix - for descending",
    )
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


@router.get("/users", response=UserPage, summary="List staff accounts")
def list_users(request: HttpRequest, filters: Query[UserFilters]) -> dict[str, Any]:
    require_perm(request.user, "users.view")
    qs = User.objects.exclude(role=Role.CUSTOMER)
    if filters.q:
        qs = qs.filter(
            Q(display_name__icontains=filters.q)
            | Q(username__icontains=filters.q)
            | Q(employee_no__icontains=filters.q)
            | Q(email__icontains=filters.q)
        )
    if filters.role:
        qs = qs.filter(role=filters.role)
    if filters.team:
        qs = qs.filter(memberships__team_id=filters.team)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    page = paginate(
        qs, sort=filters.sort, keys=USER_SORT, cursor=filters.cursor, limit=filters.limit
    )
    ids = [u.pk for u in page.items]
    detailed = {u.pk: u for u in _users_with_details().filter(pk__in=ids)}
    return {"items": [user_out(detailed[pk]) for pk in ids], "next_cursor": page.next_cursor}


def _staff_user(pk: int) -> User:
    user: User = get_object_or_404(_users_with_details(), pk=pk)
    return user


@router.get("/users/{user_id}", response=UserOut, summary="One staff account")
def get_user(request: HttpRequest, user_id: PathId) -> dict[str, Any]:
    if request.user.pk != user_id:
        require_perm(request.user, "users.view")
    return user_out(_staff_user(user_id))


class SkillLevelIn(Input):
    skill_id: BodyId
    level: int = Field(3, ge=1, le=5)


class ProfileIn(Input):
    skills: list[SkillLevelIn] | None = None
    languages: list[str] | None = None
    channels: list[str] | None = None
    capacity: dict[str, int] | None = None
    extension: str | None = Field(None, max_length=16)


class UserCreate(Input):
    username: str = Field(..., min_length=3, max_length=150)
    display_name: str = Field(..., min_length=1, max_length=100)
    role: RoleName
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)
    employee_no: str = Field("", max_length=20)
    language: Literal["", "zh-hans", "en"] = ""
    password: str | None = Field(None, min_length=8, max_length=128)
    team_ids: list[BodyId] = []
    agent_profile: ProfileIn | None = None


def _apply_profile(actor: User, user: User, profile: ProfileIn | None) -> None:
    if profile is None:
        return
    services.update_agent_profile(
        actor=actor,
        user=user,
        skills=[services.SkillLevel(s.skill_id, s.level) for s in profile.skills]
        if profile.skills is not None
        else None,
        languages=profile.languages,
        channels=profile.channels,
        capacity=profile.capacity,
        extension=profile.extension,
    )


@router.post("/users", response={201: UserOut}, summary="Create a staff account")
def create_user(request: HttpRequest, payload: UserCreate) -> Status[Any]:
    from django.db import transaction

    actor = request.user
    assert isinstance(actor, User)
    require_perm(actor, "users.manage")
    teams = list(Team.objects.filter(pk__in=payload.team_ids))
    if len(teams) != len(set(payload.team_ids)):
        raise HttpError(422, _("Unknown team id in team_ids."))
    with transaction.atomic():
        user = services.create_user(
            actor=actor,
            username=payload.username,
            display_name=payload.display_name,
            role=payload.role,
            email=payload.email,
            phone=payload.phone,
            employee_no=payload.employee_no,
            language=payload.language,
            password=payload.password,
            teams=teams,
        )
        _apply_profile(actor, user, payload.agent_profile)
    return Status(201, user_out(_staff_user(user.pk)))


class UserUpdate(Input):
    display_name: str | None = Field(None, min_length=1, max_length=100)
    role: RoleName | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32)
    employee_no: str | None = Field(None, max_length=20)
    language: Literal["", "zh-hans", "en"] | None = None
    is_active: bool | None = None
    agent_profile: ProfileIn | None = None


@router.patch("/users/{user_id}", response=UserOut, summary="Change a staff account")
def update_user(request: HttpRequest, user_id: PathId, payload: UserUpdate) -> dict[str, Any]:
    from django.db import transaction

    actor = request.user
    assert isinstance(actor, User)
    if actor.pk != user_id:
        require_perm(actor, "users.manage")
    user = _staff_user(user_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"agent_profile"})
    with transaction.atomic():
        if changes:
            services.update_user(actor=actor, user=user, changes=changes)
        _apply_profile(actor, user, payload.agent_profile)
    return user_out(_staff_user(user_id))


@router.delete("/users/{user_id}", response={204: None}, summary="Deactivate a staff account")
def deactivate_user(request: HttpRequest, user_id: PathId) -> Status[Any]:
    actor = request.user
    assert isinstance(actor, User)
    require_perm(actor, "users.manage")
    user = _staff_user(user_id)
    services.update_user(actor=actor, user=user, changes={"is_active": False})
    return Status(204, None)


# --- teams --------------------------------------------------------------------------------------


class MemberOut(Out):
    id: int
    display_name: str
    employee_no: str
    role: str
    is_lead: bool


class TeamOut(Out):
    id: int
    name: str
    code: str
    kind: str
    description: str
    email: str
    is_active: bool
    members: list[MemberOut]


def team_out(team: Team) -> dict[str, Any]:
    return {
        "id": team.pk,
        "name": team.name,
        "code": team.code,
        "kind": team.kind,
        "description": team.description,
        "email": team.email,
        "is_active": team.is_active,
        "members": [
            {
                "id": m.user.pk,
                "display_name": m.user.display_name,
                "employee_no": m.user.employee_no,
                "role": m.user.role,
                "is_lead": m.is_lead,
            }
            for m in team.memberships.all()
        ],
    }


def _teams() -> Any:
    return Team.objects.prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.select_related("user").order_by(
                "-is_lead", "user__display_name"
            ),
        )
    )


class TeamPage(Out):
    items: list[TeamOut]
    next_cursor: str | None


class TeamFilters(Schema):
    kind: TeamKind | None = None
    active: bool | None = None
    sort: str = Field("name", description="id or name; prefix - for descending")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


@router.get("/teams", response=TeamPage, summary="List teams")
def list_teams(request: HttpRequest, filters: Query[TeamFilters]) -> dict[str, Any]:
    require_perm(request.user, "teams.view")
    qs = Team.objects.all()
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    page = paginate(
        qs, sort=filters.sort, keys=TEAM_SORT, cursor=filters.cursor, limit=filters.limit
    )
    ids = [t.pk for t in page.items]
    detailed = {t.pk: t for t in _teams().filter(pk__in=ids)}
    return {"items": [team_out(detailed[pk]) for pk in ids], "next_cursor": page.next_cursor}


@router.get("/teams/{team_id}", response=TeamOut, summary="One team with its members")
def get_team(request: HttpRequest, team_id: PathId) -> dict[str, Any]:
    require_perm(request.user, "teams.view")
    return team_out(get_object_or_404(_teams(), pk=team_id))


class TeamCreate(Input):
    name: str = Field(..., min_length=1, max_length=100)
    code: str = Field(..., min_length=2, max_length=40)
    kind: TeamKind
    description: str = Field("", max_length=2000)
    email: str = Field("", max_length=254)


@router.post("/teams", response={201: TeamOut}, summary="Create a team")
def create_team(request: HttpRequest, payload: TeamCreate) -> Status[Any]:
    actor = request.user
    assert isinstance(actor, User)
    team = services.create_team(actor=actor, **payload.model_dump())
    return Status(201, team_out(get_object_or_404(_teams(), pk=team.pk)))


class TeamUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=100)
    code: str | None = Field(None, min_length=2, max_length=40)
    kind: TeamKind | None = None
    description: str | None = Field(None, max_length=2000)
    email: str | None = Field(None, max_length=254)
    is_active: bool | None = None


@router.patch("/teams/{team_id}", response=TeamOut, summary="Change a team")
def update_team(request: HttpRequest, team_id: PathId, payload: TeamUpdate) -> dict[str, Any]:
    actor = request.user
    assert isinstance(actor, User)
    require_perm(actor, "teams.manage")
    team = get_object_or_404(Team, pk=team_id)
    services.update_team(actor=actor, team=team, changes=payload.model_dump(exclude_unset=True))
    return team_out(get_object_or_404(_teams(), pk=team_id))


class MembershipIn(Input):
    is_lead: bool = False


@router.put(
    "/teams/{team_id}/members/{user_id}", response=TeamOut, summary="Add a member or set lead"
)
def put_member(
    request: HttpRequest, team_id: PathId, user_id: PathId, payload: MembershipIn
) -> dict[str, Any]:
    actor = request.user
    assert isinstance(actor, User)
    require_perm(actor, "teams.manage")
    team = get_object_or_404(Team, pk=team_id)
    user = get_object_or_404(User.objects.exclude(role=Role.CUSTOMER), pk=user_id)
    services.set_membership(actor=actor, team=team, user=user, is_lead=payload.is_lead)
    return team_out(get_object_or_404(_teams(), pk=team_id))


@router.delete("/teams/{team_id}/members/{user_id}", response=TeamOut, summary="Remove a member")
def delete_member(request: HttpRequest, team_id: PathId, user_id: PathId) -> dict[str, Any]:
    actor = request.user
    assert isinstance(actor, User)
    require_perm(actor, "teams.manage")
    team = get_object_or_404(Team, pk=team_id)
    user = get_object_or_404(User, pk=user_id)
    services.remove_member(actor=actor, team=team, user=user)
    return team_out(get_object_or_404(_teams(), pk=team_id))


@router.get("/skills", response=list[SkillOut], summary="Skills agents can have")
def list_skills(request: HttpRequest) -> list[Skill]:
    require_perm(request.user, "teams.view")
    return list(Skill.objects.all())


# --- personal API tokens (browser session only: a token cannot mint tokens) --------------------


class TokenOut(Out):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(..., description="Shown once; store it now.")


class TokenCreate(Input):
    name: str = Field(..., min_length=1, max_length=80)
    scopes: list[str] = Field(..., min_length=1)
    expires_at: dt.datetime | None = None


@router.get("/me/tokens", response=list[TokenOut], auth=SessionAuth(), summary="My API tokens")
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    actor = request.user
    assert isinstance(actor, User)
    return list(ApiToken.objects.filter(user=actor))


@router.post(
    "/me/tokens", response={201: TokenCreated}, auth=SessionAuth(), summary="Create an API token"
)
def create_token(request: HttpRequest, payload: TokenCreate) -> Status[Any]:
    actor = request.user
    assert isinstance(actor, User)
    token, plaintext = services.create_api_token(
        actor=actor,
        user=actor,
        name=payload.name,
        scopes=payload.scopes,
        expires_at=payload.expires_at,
    )
    data = TokenOut.model_validate(token).model_dump()
    return Status(201, {**data, "token": plaintext})


@router.delete(
    "/me/tokens/{token_id}", response={204: None}, auth=SessionAuth(), summary="Revoke an API token"
)
def revoke_token(request: HttpRequest, token_id: PathId) -> Status[Any]:
    actor = request.user
    assert isinstance(actor, User)
    token = ApiToken.objects.filter(pk=token_id, user=actor).first()
    if token is None:
        raise HttpError(404, _("Not found."))
    services.revoke_api_token(actor=actor, token=token)
    return Status(204, None)


class PermOut(Out):
    code: str
    scope: str
    roles: list[str]


@router.get(
    "/permissions", response=list[PermOut], summary="Every permission and the roles that hold it"
)
def list_permissions(request: HttpRequest) -> list[dict[str, Any]]:
    if not getattr(request.user, "is_staff_member", False):
        raise PermissionDenied
    return [
        {
            "code": code,
            "scope": perm.scope,
            "roles": [r.value for r in Role if code in role_perms(r)],
        }
        for code, perm in sorted(PERMS.items())
    ]
