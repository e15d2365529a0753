"""Screens: sign-in, passwords, my account, API tokens, staff accounts and teams."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts import forms, services
from kefu.accounts.models import AgentProfile, ApiToken, Membership, Team, User
from kefu.core.choices import WorkChannel
from kefu.core.events import history
from kefu.core.middleware import client_ip
from kefu.core.pagination import CursorError, SortKey, paginate
from kefu.core.permissions import PERMS, STAFF_ROLES, Role, has_perm, require_perm, role_perms
from kefu.core.validation import parse_id


def TOO_MANY_MAILS() -> str:  # noqa: N802 - reads as the constant message it is
    return str(_("Too many requests from your network. Wait an hour, or call the service centre."))


def remember_device(request: HttpRequest, response: HttpResponse, user: User) -> HttpResponse:
    """Mark this browser as one the account signs in on (see services.sign_in's throttling)."""
    response.set_cookie(
        services.DEVICE_COOKIE,
        services.device_token(user, request.COOKIES.get(services.DEVICE_COOKIE)),
        max_age=services.DEVICE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.role in STAFF_ROLES:
        return redirect(_safe_next(request, reverse("core:home")))
    form = forms.LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_in(
                request, form.cleaned_data["login"], form.cleaned_data["password"], portal=False
            )
        except services.LoginThrottled as exc:
            form.add_error(
                None,
                _("Too many failed attempts. Try again in %(m)d minutes.") % {"m": exc.minutes},
            )
        except services.LoginFailed:
            form.add_error(None, _("The sign-in name or password is not correct."))
        else:
            login(request, user)
            return remember_device(
                request, redirect(_safe_next(request, reverse("core:home"))), user
            )
    return render(
        request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    portal = request.user.is_authenticated and request.user.role == Role.CUSTOMER
    logout(request)
    return redirect("portal:login" if portal else "accounts:login")


def account_mail_form(
    request: HttpRequest, *, kind: str, portal: bool, sent: str, then: str, template: str
) -> HttpResponse:
    """The page that asks for a password-reset (``reset``) or sign-in-link (``link``) mail:
    the same answer whoever the address belongs to; a wait message past the client's limit."""
    form = forms.EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_account_mail(
                kind, form.cleaned_data["email"], portal=portal, ip=client_ip(request)
            )
        except services.MailThrottled:
            form.add_error(None, TOO_MANY_MAILS())
        else:
            messages.info(request, sent)
            return redirect(then)
    return render(request, template, {"form": form})


def password_reset_request(request: HttpRequest) -> HttpResponse:
    return account_mail_form(
        request,
        kind="reset",
        portal=False,
        sent=_("If an account uses this address, a link to reset the password is on its way."),
        then="accounts:login",
        template="accounts/password_reset.html",
    )


def _user_from_uid(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def password_reset_confirm(
    request: HttpRequest, uidb64: str, token: str, *, portal: bool = False
) -> HttpResponse:
    user = _user_from_uid(uidb64)
    roles_ok = user is not None and ((user.role == Role.CUSTOMER) == portal)
    if user is None or not roles_ok or not default_token_generator.check_token(user, token):
        return render(
            request, "accounts/password_reset_invalid.html", {"portal": portal}, status=400
        )
    form = forms.SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_password(user=user, new_password=form.cleaned_data["new_password"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Your password was changed. Sign in with the new one."))
            return redirect("portal:login" if portal else "accounts:login")
    base = "portal/auth_base.html" if portal else "accounts/auth_base.html"
    return render(request, "accounts/password_set.html", {"form": form, "base": base})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if user.role == Role.CUSTOMER:
        return redirect("portal:profile")
    form = forms.ProfileForm(
        request.POST or None, initial={"display_name": user.display_name, "language": user.language}
    )
    password_form = forms.PasswordChangeForm(prefix="pw")
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(actor=user, user=user, changes=form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Your account was updated."))
            return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "password_form": password_form, "nav": "profile"},
    )


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = forms.PasswordChangeForm(request.POST or None, prefix="pw")
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password was changed."))
            return redirect("portal:profile" if user.role == Role.CUSTOMER else "accounts:profile")
    if user.role == Role.CUSTOMER:
        return render(request, "portal/password_change.html", {"password_form": form})
    profile_form = forms.ProfileForm(
        initial={"display_name": user.display_name, "language": user.language}
    )
    return render(request, "accounts/profile.html", {"form": profile_form, "password_form": form})


# --- API tokens ---------------------------------------------------------------------------------


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    require_perm(user, "tokens.own")
    grantable = {PERMS[p].scope for p in role_perms(user.role)}
    form = forms.TokenForm(request.POST or None, grantable=grantable)
    created = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data.get("expires_days")
        expires = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            token, created = services.create_api_token(
                actor=user,
                user=user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=expires,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            form = forms.TokenForm(grantable=grantable)
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "created": created, "tokens": ApiToken.objects.filter(user=user)},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise Http404
    services.revoke_api_token(actor=user, token=token)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("accounts:tokens")


# --- staff accounts -----------------------------------------------------------------------------

USER_SORTS = {
    "display_name": SortKey("display_name"),
    "username": SortKey("username"),
    "date_joined": SortKey("date_joined", "datetime"),
}


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "users.view")
    params = request.GET
    qs = User.objects.filter(role__in=STAFF_ROLES)
    q = params.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(display_name__icontains=q)
            | Q(username__icontains=q)
            | Q(employee_no__icontains=q)
            | Q(email__icontains=q)
        )
    if params.get("role") in Role.values:
        qs = qs.filter(role=params["role"])
    if (team_id := parse_id(params.get("team"))) is not None:
        qs = qs.filter(memberships__team_id=team_id)
    active = params.get("active", "1")
    if active in ("0", "1"):
        qs = qs.filter(is_active=active == "1")
    sort = params.get("sort", "display_name")
    try:
        page = paginate(qs, sort=sort, keys=USER_SORTS, cursor=params.get("cursor"), limit=50)
    except CursorError:
        page = paginate(qs, sort="display_name", keys=USER_SORTS, cursor=None, limit=50)
    ids = [u.pk for u in page.items]
    rows = {
        u.pk: u
        for u in User.objects.filter(pk__in=ids).prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("team"))
        )
    }
    page.items = [rows[pk] for pk in ids]
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": page,
            "params": params,
            "roles": [(r.value, r.label) for r in Role if r in STAFF_ROLES],
            "teams": Team.objects.all(),
            "nav": "users",
        },
    )


def _profile_initial(profile: AgentProfile | None) -> dict[str, Any]:
    if profile is None:
        return {}
    initial: dict[str, Any] = {
        "languages": profile.languages,
        "channels": profile.channels,
        "extension": profile.extension,
    }
    for channel in WorkChannel:
        initial[f"capacity_{channel.value}"] = profile.capacity.get(channel.value, 0)
    for agent_skill in profile.agent_skills.all():
        initial[f"skill_{agent_skill.skill_id}"] = agent_skill.level
    return initial


def _save_profile(actor: User, user: User, form: forms.AgentProfileForm) -> None:
    data = form.cleaned_data
    services.update_agent_profile(
        actor=actor,
        user=user,
        languages=data["languages"],
        channels=data["channels"],
        extension=data["extension"],
        capacity={c.value: data[f"capacity_{c.value}"] or 0 for c in WorkChannel},
        skills=[
            services.SkillLevel(int(name.removeprefix("skill_")), level)
            for name, level in data.items()
            if name.startswith("skill_") and level
        ],
    )


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    actor = request.user
    assert isinstance(actor, User)
    require_perm(actor, "users.manage")
    form = forms.UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_user(
                actor=actor,
                username=data["username"],
                display_name=data["display_name"],
                role=data["role"],
                employee_no=data["employee_no"],
                email=data["email"],
                phone=data["phone"],
                language=data["language"],
                password=data["password"] or None,
                teams=data["teams"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if not data["password"] and user.email:
                email = user.email
                transaction.on_commit(lambda: services.send_password_reset(email, portal=False))
            messages.success(
                request, _("The account %(name)s was created.") % {"name": user.display_label}
            )
            return redirect("accounts:user_detail", user_id=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "nav": "users"})


@login_required
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = request.user
    assert isinstance(actor, User)
    require_perm(actor, "users.view")
    user = get_object_or_404(User.objects.filter(role__in=STAFF_ROLES), pk=user_id)
    profile = AgentProfile.objects.filter(user=user).prefetch_related("agent_skills__skill").first()
    can_manage = has_perm(actor, "users.manage")
    form = forms.UserForm(
        request.POST if request.method == "POST" and "save_user" in request.POST else None,
        editing=True,
        initial={
            f: getattr(user, f)
            for f in (
                "username",
                "display_name",
                "role",
                "employee_no",
                "email",
                "phone",
                "language",
            )
        },
    )
    profile_form = forms.AgentProfileForm(
        request.POST if request.method == "POST" and "save_profile" in request.POST else None,
        initial=_profile_initial(profile),
    )
    if request.method == "POST":
        require_perm(actor, "users.manage")
        try:
            if "save_user" in request.POST and form.is_valid():
                changes = {k: v for k, v in form.cleaned_data.items() if k != "username"}
                services.update_user(actor=actor, user=user, changes=changes)
                messages.success(request, _("Saved."))
                return redirect("accounts:user_detail", user_id=user.pk)
            if "save_profile" in request.POST and profile_form.is_valid():
                _save_profile(actor, user, profile_form)
                messages.success(request, _("Saved."))
                return redirect("accounts:user_detail", user_id=user.pk)
            if "toggle_active" in request.POST:
                services.update_user(
                    actor=actor, user=user, changes={"is_active": not user.is_active}
                )
                messages.success(
                    request,
                    _("Account reactivated.") if user.is_active else _("Account deactivated."),
                )
                return redirect("accounts:user_detail", user_id=user.pk)
            if "send_reset" in request.POST:
                if not user.email:
                    messages.error(request, _("This account has no e-mail address."))
                else:
                    services.send_password_reset(user.email, portal=False)
                    messages.success(
                        request, _("A password link was sent to %(email)s.") % {"email": user.email}
                    )
                return redirect("accounts:user_detail", user_id=user.pk)
        except ValidationError as exc:
            target = profile_form if "save_profile" in request.POST else form
            target.add_service_errors(exc)
            if "toggle_active" in request.POST:
                messages.error(request, " ".join(exc.messages))
    return render(
        request,
        "accounts/user_detail.html",
        {
            "subject": user,
            "profile": profile,
            "form": form,
            "profile_form": profile_form,
            "can_manage": can_manage,
            "memberships": user.memberships.select_related("team"),
            "events": history("user", user.pk, 30) if has_perm(actor, "audit.view") else [],
            "nav": "users",
        },
    )


# --- teams --------------------------------------------------------------------------------------


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "teams.view")
    teams = Team.objects.annotate(member_count=Count("memberships")).prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.filter(is_lead=True).select_related("user"),
            to_attr="leads",
        )
    )
    return render(request, "accounts/team_list.html", {"teams": teams, "nav": "teams"})


@login_required
def team_form(request: HttpRequest, team_id: int | None = None) -> HttpResponse:
    actor = request.user
    assert isinstance(actor, User)
    require_perm(actor, "teams.manage")
    team = get_object_or_404(Team, pk=team_id) if team_id else None
    initial = (
        {f: getattr(team, f) for f in ("name", "code", "kind", "description", "email")}
        if team
        else {}
    )
    form = forms.TeamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if team is None:
                team = services.create_team(actor=actor, **form.cleaned_data)
            else:
                services.update_team(actor=actor, team=team, changes=form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("accounts:team_detail", team_id=team.pk)
    return render(request, "accounts/team_form.html", {"form": form, "team": team, "nav": "teams"})


@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    actor = request.user
    assert isinstance(actor, User)
    require_perm(actor, "teams.view")
    team = get_object_or_404(Team, pk=team_id)
    form = forms.MemberForm(request.POST if "add_member" in request.POST else None, team=team)
    if request.method == "POST":
        require_perm(actor, "teams.manage")
        try:
            if "add_member" in request.POST and form.is_valid():
                services.set_membership(
                    actor=actor,
                    team=team,
                    user=form.cleaned_data["user"],
                    is_lead=form.cleaned_data["is_lead"],
                )
                return redirect("accounts:team_detail", team_id=team.pk)
            member_id = request.POST.get("member", "")
            if parse_id(member_id) is not None:
                member = get_object_or_404(User, pk=parse_id(member_id))
                if "remove" in request.POST:
                    services.remove_member(actor=actor, team=team, user=member)
                elif "lead" in request.POST:
                    services.set_membership(
                        actor=actor, team=team, user=member, is_lead=request.POST["lead"] == "1"
                    )
                return redirect("accounts:team_detail", team_id=team.pk)
            if "toggle_team" in request.POST:
                services.update_team(
                    actor=actor, team=team, changes={"is_active": not team.is_active}
                )
                return redirect("accounts:team_detail", team_id=team.pk)
        except ValidationError as exc:
            form.add_service_errors(exc)
    members = team.memberships.select_related("user").order_by("-is_lead", "user__display_name")
    return render(
        request,
        "accounts/team_detail.html",
        {
            "team": team,
            "members": members,
            "form": form,
            "can_manage": has_perm(actor, "teams.manage"),
            "events": history("team", team.pk, 30) if has_perm(actor, "audit.view") else [],
            "nav": "teams",
        },
    )
