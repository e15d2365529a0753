"""Customer portal: sign-in (password or one-time link), sign-up, home and profile."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.accounts import services as account_services
from kefu.accounts.forms import PasswordChangeForm
from kefu.accounts.models import User
from kefu.accounts.views import (
    _safe_next,
    _user_from_uid,
    account_mail_form,
    password_reset_confirm,
    remember_device,
)
from kefu.core.middleware import client_ip
from kefu.core.permissions import Role
from kefu.customers import services as customer_services
from kefu.customers.models import Customer
from kefu.customers.selectors import with_details
from kefu.portal.access import portal_login_required
from kefu.portal.forms import LanguageForm, PortalLoginForm, RegisterForm
from kefu.portal.home import portal_sections

SIGNUPS_PER_HOUR = 10


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.role == Role.CUSTOMER:
        return redirect(_safe_next(request, reverse("portal:home")))
    form = PortalLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = account_services.sign_in(
                request, form.cleaned_data["login"], form.cleaned_data["password"], portal=True
            )
        except account_services.LoginThrottled as exc:
            form.add_error(
                None,
                _("Too many failed attempts. Try again in %(m)d minutes.") % {"m": exc.minutes},
            )
        except account_services.LoginFailed:
            form.add_error(None, _("The e-mail/mobile number or password is not correct."))
        else:
            login(request, user)
            return remember_device(
                request, redirect(_safe_next(request, reverse("portal:home"))), user
            )
    return render(request, "portal/login.html", {"form": form, "next": request.GET.get("next", "")})


def login_link_request(request: HttpRequest) -> HttpResponse:
    return account_mail_form(
        request,
        kind="link",
        portal=True,
        sent=_(
            "If a portal account uses this address, a sign-in link is on its way. It works once, for two hours."
        ),
        then="portal:login",
        template="portal/login_link.html",
    )


def login_link(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = _user_from_uid(uidb64)
    if (
        user is None
        or user.role != Role.CUSTOMER
        or not account_services.login_link_tokens.check_token(user, token)
    ):
        return render(
            request,
            "accounts/password_reset_invalid.html",
            {"portal": True, "base": "portal/auth_base.html"},
            status=400,
        )
    if request.method == "POST":
        login(request, user, backend="kefu.accounts.backends.KefuBackend")
        return redirect("portal:home")
    # A confirmation step, so that link scanners in mail systems do not use up the link.
    return render(request, "portal/login_link_confirm.html", {"subject": user})


def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        key = f"portal-signup:{client_ip(request)}"
        cache.add(key, 0, 3600)
        if cache.incr(key) > SIGNUPS_PER_HOUR:
            form.add_error(
                None, _("Too many sign-ups from this network. Try again later or call us.")
            )
        else:
            data = form.cleaned_data
            try:
                user = customer_services.register_portal_customer(
                    name=data["name"],
                    email=data["email"],
                    phone=data["phone"],
                    password=data["password"],
                    language=request.LANGUAGE_CODE,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                login(request, user, backend="kefu.accounts.backends.KefuBackend")
                messages.success(request, _("Welcome! Your account is ready."))
                return redirect("portal:home")
    return render(request, "portal/register.html", {"form": form})


def password_reset(request: HttpRequest) -> HttpResponse:
    return account_mail_form(
        request,
        kind="reset",
        portal=True,
        sent=_(
            "If a portal account uses this address, a link to reset the password is on its way."
        ),
        then="portal:login",
        template="portal/password_reset.html",
    )


def password_reset_confirm_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    return password_reset_confirm(request, uidb64, token, portal=True)


def _customer(request: HttpRequest) -> Customer:
    user = request.user
    assert isinstance(user, User)
    assert user.customer_id is not None
    return with_details(Customer.objects.filter(pk=user.customer_id)).get()


@portal_login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/home.html",
        {"customer": _customer(request), "sections": portal_sections(request), "nav": "home"},
    )


@portal_login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = LanguageForm(
        request.POST or None, initial={"language": user.language or request.LANGUAGE_CODE}
    )
    if request.method == "POST" and form.is_valid():
        account_services.update_user(
            actor=user, user=user, changes={"language": form.cleaned_data["language"]}
        )
        messages.success(request, _("Saved."))
        return redirect("portal:profile")
    return render(
        request,
        "portal/profile.html",
        {
            "customer": _customer(request),
            "form": form,
            "password_form": PasswordChangeForm(prefix="pw"),
            "nav": "profile",
        },
    )
