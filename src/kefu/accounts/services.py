"""Account rules: users, sign-in and its throttling, passwords, teams, agent profiles, tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from kefu.accounts.models import AgentProfile, AgentSkill, ApiToken, Membership, Skill, Team, User
from kefu.core import events, jobs
from kefu.core.choices import Language, WorkChannel
from kefu.core.permissions import SCOPES, STAFF_ROLES, Role, require_perm, role_perms
from kefu.core.validation import clean_text, normalize_email, normalize_phone

USER_FIELDS = (
    "username",
    "display_name",
    "role",
    "email",
    "phone",
    "employee_no",
    "language",
    "is_active",
)
_USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{3,150}$")
_EMPLOYEE_NO = re.compile(r"^[A-Za-z0-9-]{1,20}$")


# --- users --------------------------------------------------------------------------------------


def _clean_user_fields(data: Mapping[str, Any], *, instance: User | None) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def check(field: str, fn: Any) -> None:
        if field in data:
            try:
                cleaned[field] = fn(data[field])
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    errors.setdefault(key, []).extend(messages)

    def username(raw: Any) -> str:
        value = str(raw or "").strip()
        if not _USERNAME.match(value):
            raise ValidationError(
                {"username": _("3–150 letters, digits or the characters _ . @ + -")}
            )
        return value

    def role(value: Any) -> str:
        if value not in Role.values:
            raise ValidationError({"role": _("Unknown role “%(value)s”.") % {"value": value}})
        return str(value)

    def email(value: Any) -> str:
        return str(normalize_email(str(value))) if value else ""

    def phone(value: Any) -> str:
        return str(normalize_phone(str(value))) if value else ""

    def employee_no(raw: Any) -> str:
        value = str(raw or "").strip()
        if value and not _EMPLOYEE_NO.match(value):
            raise ValidationError({"employee_no": _("Up to 20 letters, digits or hyphens.")})
        return value

    def language(value: Any) -> str:
        if value not in ("", "zh-hans", "en"):
            raise ValidationError({"language": _("Choose 简体中文 or English.")})
        return str(value)

    def is_active(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError({"is_active": _("Must be true or false.")})
        return value

    check("username", username)
    check(
        "display_name",
        lambda v: clean_text(
            v, field="display_name", max_length=100, required=True, single_line=True
        ),
    )
    check("role", role)
    check("email", email)
    check("phone", phone)
    check("employee_no", employee_no)
    check("language", language)
    check("is_active", is_active)

    others = User.objects.exclude(pk=instance.pk) if instance else User.objects.all()
    if cleaned.get("username") and others.filter(username__iexact=cleaned["username"]).exists():
        errors.setdefault("username", []).append(_("This user name is taken."))
    if (
        cleaned.get("email")
        and others.annotate(e=Lower("email")).filter(e=cleaned["email"].lower()).exists()
    ):
        errors.setdefault("email", []).append(
            _("This e-mail address is already used by another account.")
        )
    if cleaned.get("phone") and others.filter(phone=cleaned["phone"]).exists():
        errors.setdefault("phone", []).append(
            _("This phone number is already used by another account.")
        )
    if cleaned.get("employee_no") and others.filter(employee_no=cleaned["employee_no"]).exists():
        errors.setdefault("employee_no", []).append(_("This employee number is already taken."))
    if errors:
        raise ValidationError(errors)
    return cleaned


def _save_unique(obj: Any) -> None:
    """Save, turning a lost uniqueness race into a validation error instead of a 500."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError(
            _("Another record with the same unique value was just saved.")
        ) from None


@transaction.atomic
def create_user(
    *,
    actor: User | None,
    username: str,
    display_name: str,
    role: str,
    email: str = "",
    phone: str = "",
    employee_no: str = "",
    language: str = "",
    password: str | None = None,
    teams: Iterable[Team] = (),
    customer: Any = None,
) -> User:
    """Create an account. Staff accounts are created by administrators; customer accounts
    by the portal's sign-up or by an agent inviting a customer."""
    if actor is not None:
        require_perm(actor, "customers.edit" if role == Role.CUSTOMER else "users.manage")
    data = _clean_user_fields(
        {
            "username": username,
            "display_name": display_name,
            "role": role,
            "email": email,
            "phone": phone,
            "employee_no": employee_no,
            "language": language,
        },
        instance=None,
    )
    if data["role"] == Role.CUSTOMER and customer is None:
        raise ValidationError({"customer": _("A portal account must belong to a customer.")})
    if data["role"] != Role.CUSTOMER and customer is not None:
        raise ValidationError({"customer": _("Only portal accounts belong to a customer.")})
    user = User(**data, customer=customer)
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    _save_unique(user)
    if user.role in (Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR):
        AgentProfile.objects.create(user=user)
    for team in teams:
        Membership.objects.create(team=team, user=user)
    events.record(
        "user_created",
        user,
        actor=actor,
        changes=events.diff({}, events.snapshot(user, USER_FIELDS)),
        data={"teams": [t.pk for t in teams]},
    )
    return user


@transaction.atomic
def update_user(*, actor: User, user: User, changes: Mapping[str, Any]) -> User:
    """Change an account's fields. Users may change their own name and language;
    everything else needs ``users.manage``."""
    own_fields = {"display_name", "language"}
    if not (user.pk == actor.pk and set(changes) <= own_fields):
        require_perm(actor, "users.manage")
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in sorted(unknown)})
    if user.pk == actor.pk and (
        changes.get("role", user.role) != user.role or changes.get("is_active") is False
    ):
        raise ValidationError(_("You cannot change your own role or deactivate your own account."))
    data = _clean_user_fields(changes, instance=user)
    if user.role == Role.CUSTOMER and data.get("role", Role.CUSTOMER) != Role.CUSTOMER:
        raise ValidationError({"role": _("A portal account cannot become a staff account.")})
    if user.role != Role.CUSTOMER and data.get("role") == Role.CUSTOMER:
        raise ValidationError({"role": _("A staff account cannot become a portal account.")})
    before = events.snapshot(user, USER_FIELDS)
    for field, value in data.items():
        setattr(user, field, value)
    _save_unique(user)
    if user.role in (Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR):
        AgentProfile.objects.get_or_create(user=user)
    diff = events.diff(before, events.snapshot(user, USER_FIELDS))
    if diff:
        action = "user_changed"
        if list(diff) == ["is_active"]:
            action = "user_activated" if user.is_active else "user_deactivated"
        events.record(action, user, actor=actor, changes=diff)
    return user


# --- sign-in ------------------------------------------------------------------------------------


class LoginFailed(Exception):
    pass


class LoginThrottled(Exception):
    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


DEVICE_COOKIE = "kefu_device"
DEVICE_SALT = "kefu.accounts.device"
DEVICE_MAX_AGE = 180 * 24 * 3600
DEVICE_ACCOUNTS = 8
"""A shared desk's browser remembers this many accounts that signed in on it."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _account_key(login: str, portal: bool) -> tuple[str, User | None]:
    """One counter per account, however the login is typed (user name, 工号, e-mail, a phone
    number with spaces or +86): the account's id when the login names one, else the login
    normalised the way the sign-in form reads it."""
    user = find_login_user(login, portal=portal)
    if user is not None:
        return f"u{user.pk}", user
    normalized = unicodedata.normalize("NFKC", login or "").strip().lower()
    return f"x{_digest(normalized)}", None


def _address_key(ip: str | None) -> str:
    """IPv4 addresses as they are; IPv6 by /64, the block one subscriber usually holds."""
    if not ip:
        return "-"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "-"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _throttle_keys(account: str, ip: str | None, device: str | None) -> dict[str, tuple[str, int]]:
    """The failure counters a sign-in attempt is judged by, with their limits.

    - From a device this account signed in on before (a signed cookie), only that device's own
      failures count: nobody elsewhere can lock the account's owner out of their usual browser.
    - From anywhere else: failures of this account from this address, all failures from this
      address, and failures of this account from everywhere (a distributed guess). The last one
      has a high limit and stops only unknown devices.
    """
    if device:
        return {"device": (f"login-fail:dev:{account}:{device}", settings.LOGIN_FAILURE_LIMIT)}
    address = _address_key(ip)
    return {
        "pair": (f"login-fail:pair:{account}:{address}", settings.LOGIN_FAILURE_LIMIT),
        "address": (f"login-fail:ip:{address}", settings.LOGIN_ADDRESS_FAILURE_LIMIT),
        "account": (f"login-fail:acct:{account}", settings.LOGIN_ACCOUNT_FAILURE_LIMIT),
    }


def check_login_allowed(account: str, ip: str | None, device: str | None = None) -> None:
    keys = _throttle_keys(account, ip, device)
    counts = cache.get_many([key for key, _limit in keys.values()])
    if any(counts.get(key, 0) >= limit for key, limit in keys.values()):
        raise LoginThrottled(settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)


def _note_failure(account: str, ip: str | None, device: str | None) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key, _limit in _throttle_keys(account, ip, device).values():
        cache.add(key, 0, window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window)


def _password_tag(user: User) -> str:
    """Changes with the password, so a reset forgets every device the old password knew."""
    return salted_hmac(DEVICE_SALT, user.password).hexdigest()[:16]


def _device_entries(raw: str | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        data = signing.loads(raw, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    except signing.BadSignature:
        return []
    if not isinstance(data, list):
        return []
    return [e for e in data if isinstance(e, dict) and {"u", "d", "h"} <= set(e)]


def device_token(user: User, current: str | None = None) -> str:
    """The device cookie's new value after ``user`` signed in on this browser: this account
    first, then up to DEVICE_ACCOUNTS - 1 others that signed in on it before."""
    entries = [e for e in _device_entries(current) if e["u"] != user.pk]
    mine = {"u": user.pk, "d": secrets.token_hex(8), "h": _password_tag(user)}
    return signing.dumps([mine, *entries][:DEVICE_ACCOUNTS], salt=DEVICE_SALT)


def _known_device(raw: str | None, user: User | None) -> str | None:
    """The device id if the cookie was issued to ``user`` under their current password."""
    if user is None:
        return None
    for entry in _device_entries(raw):
        if entry["u"] == user.pk and hmac.compare_digest(str(entry["h"]), _password_tag(user)):
            return str(entry["d"])[:32] or None
    return None


def find_login_user(login: str, *, portal: bool) -> User | None:
    """The account a sign-in name refers to: staff by user name, employee number or e-mail;
    customers by e-mail or phone."""
    login = (login or "").strip()
    if not login:
        return None
    if portal:
        qs = User.objects.filter(role=Role.CUSTOMER)
        if "@" in login:
            return qs.annotate(e=Lower("email")).filter(e=login.lower()).first()
        try:
            phone = normalize_phone(login)
        except ValidationError:
            return None
        return qs.filter(phone=phone).first()
    qs = User.objects.filter(role__in=STAFF_ROLES)
    if "@" in login:
        user = qs.annotate(e=Lower("email")).filter(e=login.lower()).first()
        if user:
            return user
    return qs.filter(username__iexact=login).first() or qs.filter(employee_no=login).first()


def sign_in(request: HttpRequest, login: str, password: str, *, portal: bool) -> User:
    """Check credentials with throttling; returns the user (the caller logs them in and sets
    the device cookie with :func:`device_token`)."""
    from kefu.core.middleware import client_ip

    ip = client_ip(request)
    account, target = _account_key(login, portal)
    device = _known_device(request.COOKIES.get(DEVICE_COOKIE), target)
    check_login_allowed(account, ip, device)
    user = authenticate(request, username=login, password=password, portal=portal)
    if user is None:
        _note_failure(account, ip, device)
        if target is not None:
            with transaction.atomic():
                events.record("login_failed", target, actor=None, data={"login": login[:100]})
        raise LoginFailed
    cache.delete(_throttle_keys(account, ip, device)["device" if device else "pair"][0])
    with transaction.atomic():
        events.record("user_logged_in", user, actor=user)
    assert isinstance(user, User)
    return user


# --- passwords ----------------------------------------------------------------------------------


@transaction.atomic
def change_password(*, user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": _("Your current password is not correct.")})
    set_password(user=user, new_password=new_password, action="password_changed")


@transaction.atomic
def set_password(*, user: User, new_password: str, action: str = "password_reset") -> None:
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    events.record(action, user, actor=user)
    revoke_all_tokens(user, reason=action)


def revoke_all_tokens(user: User, *, reason: str) -> int:
    """Revoke every live API token of ``user`` (a new password ends every old credential)."""
    live = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True))
    if not live:
        return 0
    now = timezone.now()
    ApiToken.objects.filter(pk__in=[t.pk for t in live]).update(revoked_at=now)
    forget_tokens([t.prefix for t in live])
    events.record(
        "api_tokens_revoked",
        user,
        actor=None,
        data={"reason": reason, "tokens": [t.prefix for t in live]},
    )
    return len(live)


class LoginLinkTokenGenerator(PasswordResetTokenGenerator):
    """One-time sign-in links for the portal: void once used (last_login changes)."""

    key_salt = "kefu.portal.login-link"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        login = user.last_login.replace(microsecond=0, tzinfo=None) if user.last_login else ""
        return f"{user.pk}{user.password}{login}{timestamp}{user.is_active}"


login_link_tokens = LoginLinkTokenGenerator()


def _mail(user: User, subject: str, template: str, context: dict[str, Any]) -> None:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        body = render_to_string(template, {**context, "user": user, "site_url": settings.SITE_URL})
        send_mail(str(subject), body, None, [user.email])


class MailThrottled(Exception):
    """Too many link requests from one address; the form asks to wait."""


def _count(key: str, window: int) -> int:
    cache.add(key, 0, window)
    try:
        return int(cache.incr(key))
    except ValueError:
        cache.set(key, 1, window)
        return 1


def request_account_mail(kind: str, email: str, *, portal: bool, ip: str | None) -> None:
    """Queue a password-reset (``reset``) or portal sign-in (``link``) mail for ``email``.

    The request does the same work whether or not an account has the address: it checks the
    throttles and queues a job; the job looks the account up and sends (or does nothing). So
    neither the answer nor its timing tells who has an account. Throttles: per client address
    (``MailThrottled``, the form says to wait) and per typed address (silently no mail, so a
    victim's inbox cannot be flooded)."""
    hour = 3600
    if ip and _count(f"acctmail:ip:{ip}", hour) > settings.ACCOUNT_MAIL_ADDRESS_LIMIT:
        raise MailThrottled
    try:
        address = normalize_email(email)
    except ValidationError:
        return
    if _count(f"acctmail:to:{_digest(address)}", hour) > settings.ACCOUNT_MAIL_RECIPIENT_LIMIT:
        return
    from kefu.accounts.tasks import send_account_mail_task

    jobs.enqueue(send_account_mail_task, kind, address, portal)


def send_password_reset(email: str, *, portal: bool) -> None:
    """E-mail a reset link if an active account has this address. Says nothing either way, so
    the form cannot be used to find out who has an account."""
    try:
        email = normalize_email(email)
    except ValidationError:
        return
    roles = [Role.CUSTOMER] if portal else list(STAFF_ROLES)
    user = (
        User.objects.annotate(e=Lower("email"))
        .filter(e=email.lower(), is_active=True, role__in=roles)
        .first()
    )
    if user is None or not user.has_usable_password():
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    name = "portal:password_reset_confirm" if portal else "accounts:password_reset_confirm"
    link = settings.SITE_URL + reverse(name, args=[uid, token])
    with transaction.atomic():
        events.record("password_reset_requested", user, actor=None)
    _mail(user, _("Reset your Kefu password"), "accounts/email/password_reset.txt", {"link": link})


def send_login_link(email: str) -> None:
    """E-mail a one-time portal sign-in link (valid PASSWORD_RESET_TIMEOUT)."""
    try:
        email = normalize_email(email)
    except ValidationError:
        return
    user = (
        User.objects.annotate(e=Lower("email"))
        .filter(e=email.lower(), is_active=True, role=Role.CUSTOMER)
        .first()
    )
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = login_link_tokens.make_token(user)
    link = settings.SITE_URL + reverse("portal:login_link", args=[uid, token])
    with transaction.atomic():
        events.record("login_link_sent", user, actor=None)
    _mail(user, _("Your sign-in link"), "portal/email/login_link.txt", {"link": link})


# --- teams --------------------------------------------------------------------------------------

TEAM_FIELDS = ("name", "code", "kind", "description", "email", "is_active")


def _clean_team(data: Mapping[str, Any], instance: Team | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "name" in data:
        try:
            cleaned["name"] = clean_text(data["name"], field="name", max_length=100, required=True)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "code" in data:
        code = str(data["code"] or "").strip()
        if not re.match(r"^[a-z0-9-]{2,40}$", code):
            errors["code"] = [_("2–40 lower-case letters, digits or hyphens.")]
        cleaned["code"] = code
    if "kind" in data:
        if data["kind"] not in Team.Kind.values:
            errors["kind"] = [_("Unknown team kind.")]
        cleaned["kind"] = data["kind"]
    if "description" in data:
        cleaned["description"] = clean_text(
            data["description"], field="description", max_length=2000
        )
    if "email" in data:
        try:
            cleaned["email"] = normalize_email(data["email"]) if data["email"] else ""
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = [_("Must be true or false.")]
        cleaned["is_active"] = data["is_active"]
    others = Team.objects.exclude(pk=instance.pk) if instance else Team.objects.all()
    if cleaned.get("name") and others.filter(name=cleaned["name"]).exists():
        errors.setdefault("name", []).append(_("A team with this name exists."))
    if cleaned.get("code") and others.filter(code=cleaned["code"]).exists():
        errors.setdefault("code", []).append(_("A team with this code exists."))
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def create_team(
    *, actor: User, name: str, code: str, kind: str, description: str = "", email: str = ""
) -> Team:
    require_perm(actor, "teams.manage")
    data = _clean_team(
        {"name": name, "code": code, "kind": kind, "description": description, "email": email}, None
    )
    team = Team(**data)
    _save_unique(team)
    events.record(
        "team_created",
        team,
        actor=actor,
        changes=events.diff({}, events.snapshot(team, TEAM_FIELDS)),
    )
    return team


@transaction.atomic
def update_team(*, actor: User, team: Team, changes: Mapping[str, Any]) -> Team:
    require_perm(actor, "teams.manage")
    unknown = set(changes) - set(TEAM_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in sorted(unknown)})
    data = _clean_team(changes, team)
    before = events.snapshot(team, TEAM_FIELDS)
    for field, value in data.items():
        setattr(team, field, value)
    _save_unique(team)
    diff = events.diff(before, events.snapshot(team, TEAM_FIELDS))
    if diff:
        events.record("team_changed", team, actor=actor, changes=diff)
    return team


@transaction.atomic
def set_membership(*, actor: User, team: Team, user: User, is_lead: bool = False) -> Membership:
    """Add ``user`` to ``team`` (or change whether they lead it)."""
    require_perm(actor, "teams.manage")
    if not user.is_staff_member:
        raise ValidationError({"user": _("Only staff accounts can join a team.")})
    membership, created = Membership.objects.get_or_create(
        team=team, user=user, defaults={"is_lead": is_lead}
    )
    if created:
        events.record(
            "team_member_added",
            team,
            actor=actor,
            data={"user": user.pk, "user_label": user.display_label, "is_lead": is_lead},
        )
    elif membership.is_lead != is_lead:
        membership.is_lead = is_lead
        membership.save(update_fields=["is_lead"])
        events.record(
            "team_lead_changed",
            team,
            actor=actor,
            changes={"lead:" + str(user.pk): [not is_lead, is_lead]},
            data={"user": user.pk, "user_label": user.display_label},
        )
    return membership


@transaction.atomic
def remove_member(*, actor: User, team: Team, user: User) -> None:
    require_perm(actor, "teams.manage")
    deleted, _details = Membership.objects.filter(team=team, user=user).delete()
    if deleted:
        events.record(
            "team_member_removed",
            team,
            actor=actor,
            data={"user": user.pk, "user_label": user.display_label},
        )


# --- agent profiles -----------------------------------------------------------------------------

PROFILE_FIELDS = ("languages", "channels", "capacity", "extension")


@dataclass(frozen=True)
class SkillLevel:
    skill_id: int
    level: int


@transaction.atomic
def update_agent_profile(
    *,
    actor: User,
    user: User,
    skills: Iterable[SkillLevel] | None = None,
    languages: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    capacity: Mapping[str, int] | None = None,
    extension: str | None = None,
) -> AgentProfile:
    require_perm(actor, "users.manage")
    profile, _created = AgentProfile.objects.get_or_create(user=user)
    errors: dict[str, list[str]] = {}
    before = events.snapshot(profile, PROFILE_FIELDS)
    before["skills"] = {str(s.skill_id): s.level for s in profile.agent_skills.all()}
    if languages is not None:
        langs = list(dict.fromkeys(languages))
        bad = [lang for lang in langs if lang not in Language.values]
        if bad:
            errors["languages"] = [_("Unknown language: %(v)s") % {"v": ", ".join(bad)}]
        profile.languages = langs
    if channels is not None:
        chans = list(dict.fromkeys(channels))
        bad = [c for c in chans if c not in WorkChannel.values]
        if bad:
            errors["channels"] = [_("Unknown channel: %(v)s") % {"v": ", ".join(bad)}]
        profile.channels = chans
    if capacity is not None:
        cap: dict[str, int] = {}
        for key, value in capacity.items():
            if key not in WorkChannel.values:
                errors.setdefault("capacity", []).append(_("Unknown channel: %(v)s") % {"v": key})
            elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 200:
                errors.setdefault("capacity", []).append(
                    _("Capacity for %(c)s must be a whole number from 0 to 200.") % {"c": key}
                )
            else:
                cap[key] = value
        profile.capacity = {**profile.capacity, **cap}
    if extension is not None:
        profile.extension = clean_text(extension, field="extension", max_length=16)
    new_skills: dict[int, int] | None = None
    if skills is not None:
        new_skills = {}
        known = set(Skill.objects.values_list("pk", flat=True))
        for item in skills:
            if item.skill_id not in known:
                errors.setdefault("skills", []).append(
                    _("Unknown skill %(id)s.") % {"id": item.skill_id}
                )
            elif not 1 <= item.level <= 5:
                errors.setdefault("skills", []).append(_("Skill levels run from 1 to 5."))
            else:
                new_skills[item.skill_id] = item.level
    if errors:
        raise ValidationError(errors)
    profile.save()
    if new_skills is not None:
        profile.agent_skills.exclude(skill_id__in=new_skills).delete()
        for skill_id, level in new_skills.items():
            AgentSkill.objects.update_or_create(
                profile=profile, skill_id=skill_id, defaults={"level": level}
            )
    after = events.snapshot(profile, PROFILE_FIELDS)
    after["skills"] = {
        str(k): v
        for k, v in (
            new_skills
            if new_skills is not None
            else {int(k): v for k, v in before["skills"].items()}
        ).items()
    }
    diff = events.diff(before, after)
    if diff:
        events.record("agent_profile_changed", user, actor=actor, changes=diff)
    return profile


# --- API tokens ---------------------------------------------------------------------------------


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    *,
    actor: User,
    user: User,
    name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it with the plaintext, which is never stored or shown again."""
    if user.pk != actor.pk:
        require_perm(actor, "users.manage")
    require_perm(user, "tokens.own")
    name = clean_text(name, field="name", max_length=80, required=True)
    scope_list = sorted(set(scopes))
    if not scope_list:
        raise ValidationError({"scopes": _("Choose at least one scope.")})
    unknown = [s for s in scope_list if s not in SCOPES]
    if unknown:
        raise ValidationError({"scopes": _("Unknown scope: %(s)s") % {"s": ", ".join(unknown)}})
    from kefu.core.permissions import PERMS

    grantable = {PERMS[p].scope for p in role_perms(user.role)}
    beyond = [s for s in scope_list if s not in grantable]
    if beyond:
        raise ValidationError(
            {"scopes": _("This account's role cannot grant: %(s)s") % {"s": ", ".join(beyond)}}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scopes=scope_list,
        expires_at=expires_at,
    )
    events.record(
        "api_token_created",
        user,
        actor=actor,
        data={"token": token.pk, "name": name, "prefix": prefix, "scopes": scope_list},
    )
    return token, f"{settings.API_TOKEN_PREFIX}{prefix}_{secret}"


@transaction.atomic
def revoke_api_token(*, actor: User, token: ApiToken) -> None:
    if token.user_id != actor.pk:
        require_perm(actor, "users.manage")
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    events.record(
        "api_token_revoked",
        token.user,
        actor=actor,
        data={"token": token.pk, "name": token.name, "prefix": token.prefix},
    )


TOKEN_CACHE_SECONDS = 300


def _token_cache_key(prefix: str) -> str:
    return f"accounts:apitoken:{prefix}"


def _load_token(prefix: str) -> ApiToken | None:
    """The token with its user, from the shared cache when there (every change to a token or
    its user clears the entry, see forget_tokens), else from the database."""
    key = _token_cache_key(prefix)
    token = cache.get(key)
    if isinstance(token, ApiToken):
        return token
    matches = ApiToken.objects.select_related("user").filter(prefix=prefix).order_by()[:1]
    token = next(iter(matches), None)  # prefixes are unique: no ordering needed
    if token is not None:
        cache.set(key, token, TOKEN_CACHE_SECONDS)
    return token


def forget_tokens(prefixes: Iterable[str]) -> None:
    """Drop cached tokens now and again when the transaction commits, so that no request can
    put the state from before the change back in the meantime."""
    keys = [_token_cache_key(p) for p in prefixes]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys), robust=True)


def authenticate_token(raw: str) -> tuple[User, ApiToken] | None:
    """The user and token for an ``Authorization: Bearer kefu_…`` value, or None."""
    marker = settings.API_TOKEN_PREFIX
    if not raw.startswith(marker):
        return None
    prefix, _sep, secret = raw[len(marker) :].partition("_")
    if not prefix or not secret:
        return None
    token = _load_token(prefix)
    if token is None or not hmac.compare_digest(token.secret_hash, _hash_secret(secret)):
        return None
    if not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        cache.set(_token_cache_key(prefix), token, TOKEN_CACHE_SECONDS)
    return token.user, token


def ensure_can_manage(actor: User, target: User) -> None:
    if actor.pk != target.pk:
        require_perm(actor, "users.manage")
    elif not actor.is_active:
        raise PermissionDenied
