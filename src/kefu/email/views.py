"""E-mail screens: mailboxes (add, change, test, fetch now), quarantine, one message with its
sanitised HTML and folded history, outgoing mail with its delivery log, templates; and the
e-mail panel on the ticket page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import User
from kefu.core.permissions import has_perm, require_perm
from kefu.email import selectors, services
from kefu.email.access import access_inbound, access_mailbox, access_outbound, visible_mailboxes
from kefu.email.forms import MailboxForm, TemplateForm, initial_for
from kefu.email.models import EmailTemplate, InboundEmail
from kefu.email.services.outbound import DEFAULT_TEMPLATES, VARIABLES, template_text


def _user(request: HttpRequest) -> User:
    """The signed-in user (the decorators and the API's auth refuse anonymous requests)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for ms in exc.message_dict.values() for m in ms)
    return " ".join(exc.messages)


@login_required
def mailboxes(request: HttpRequest) -> HttpResponse:
    rows = selectors.list_mailboxes(visible_mailboxes(request.user))
    return render(
        request,
        "email/mailboxes.html",
        {"rows": rows, "quarantined": selectors.quarantine_count(), "nav": "email"},
    )


@login_required
def mailbox_new(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "email.manage")
    form = MailboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = services.create_mailbox(actor=_user(request), data=form.to_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Mailbox saved."))
            return redirect("email:mailbox", mailbox_id=mailbox.pk)
    return render(
        request,
        "email/mailbox_form.html",
        {"form": form, "nav": "email"},
        status=400 if form.errors else 200,
    )


@login_required
def mailbox_edit(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = access_mailbox(request.user, mailbox_id)
    form = MailboxForm(request.POST or None, initial=initial_for(mailbox))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_mailbox(actor=_user(request), mailbox=mailbox, data=form.to_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Mailbox saved."))
            return redirect("email:mailbox", mailbox_id=mailbox.pk)
    return render(
        request,
        "email/mailbox_form.html",
        {"form": form, "mailbox": mailbox, "nav": "email"},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def mailbox_test(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = access_mailbox(request.user, mailbox_id)
    for check in services.test_mailbox(actor=_user(request), mailbox=mailbox):
        part = _("Incoming") if check.part == "incoming" else _("Outgoing")
        text = f"{part}: {check.detail}"
        (messages.success if check.ok else messages.error)(request, text)
    return redirect("email:mailbox", mailbox_id=mailbox.pk)


@login_required
@require_POST
def mailbox_fetch(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = access_mailbox(request.user, mailbox_id)
    try:
        result = services.fetch_mailbox(mailbox)
    except services.FetchBusy:
        messages.info(request, _("This mailbox is being fetched right now."))
    except Exception as exc:  # noqa: BLE001 - the server's error is what the administrator needs
        from kefu.email.services.mailboxes import describe_error

        messages.error(request, _("Fetch failed: %(e)s") % {"e": describe_error(exc)})
    else:
        messages.success(
            request,
            _("Fetched: %(n)d new, %(d)d already known, %(q)d to quarantine (%(s)d on the server).")
            % {
                "n": result.new,
                "d": result.duplicates,
                "q": result.quarantined,
                "s": result.on_server,
            },
        )
    return redirect("email:mailbox", mailbox_id=mailbox.pk)


@login_required
def quarantine(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "email.manage")
    state = request.GET.get("state", InboundEmail.State.QUARANTINED)
    if state not in (InboundEmail.State.QUARANTINED, InboundEmail.State.IGNORED):
        state = InboundEmail.State.QUARANTINED
    return render(
        request,
        "email/quarantine.html",
        {
            "rows": selectors.list_inbound(state=state, limit=200),
            "state": state,
            "nav": "email_quarantine",
        },
    )


@login_required
def message_detail(request: HttpRequest, inbound_id: int) -> HttpResponse:
    inbound = access_inbound(request.user, inbound_id)
    return render(
        request,
        "email/message.html",
        {
            "m": inbound,
            # Sanitised by nh3 when the message was filed (kefu.email.parsing.sanitize_html).
            "html": mark_safe(inbound.html_safe),  # noqa: S308
            "can_manage": has_perm(request.user, "email.manage"),
            "nav": "email_quarantine" if inbound.ticket_id is None else "tickets",
        },
    )


@login_required
def message_raw(request: HttpRequest, inbound_id: int) -> HttpResponse:
    require_perm(request.user, "email.manage")
    inbound = access_inbound(request.user, inbound_id)
    raw = InboundEmail.objects.filter(pk=inbound.pk).values_list("raw", flat=True).first()
    response = HttpResponse(bytes(raw or b""), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="message-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_POST
def message_reprocess(request: HttpRequest, inbound_id: int) -> HttpResponse:
    require_perm(request.user, "email.manage")
    inbound = access_inbound(request.user, inbound_id)
    try:
        inbound = services.reprocess(actor=_user(request), inbound=inbound)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        if inbound.state == InboundEmail.State.QUARANTINED:
            messages.error(request, inbound.quarantine_reason)
        else:
            messages.success(request, _("The message was processed."))
    return redirect("email:message", inbound_id=inbound.pk)


@login_required
def outbound_detail(request: HttpRequest, outbound_id: int) -> HttpResponse:
    outbound = access_outbound(request.user, outbound_id)
    return render(
        request,
        "email/outbound.html",
        {
            "m": outbound,
            "log": list(outbound.log.all()),
            "can_manage": has_perm(request.user, "email.manage"),
            "nav": "tickets",
        },
    )


@login_required
@require_POST
def outbound_retry(request: HttpRequest, outbound_id: int) -> HttpResponse:
    outbound = access_outbound(request.user, outbound_id)
    try:
        services.retry_now(actor=_user(request), outbound=outbound)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("The message will be sent again."))
    return redirect("email:outbound", outbound_id=outbound.pk)


@login_required
def templates(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "email.manage")
    stored = {(t.kind, t.language): t for t in EmailTemplate.objects.all()}
    rows = []
    for kind, language in DEFAULT_TEMPLATES:
        subject, _body = template_text(kind, language)
        rows.append(
            {
                "kind": kind,
                "kind_label": dict(EmailTemplate._meta.get_field("kind").flatchoices)[kind],
                "language": language,
                "language_label": EmailTemplate.Language(language).label,
                "subject": subject,
                "edited": (kind, language) in stored,
            }
        )
    return render(request, "email/templates.html", {"rows": rows, "nav": "email"})


@login_required
def template_edit(request: HttpRequest, kind: str, language: str) -> HttpResponse:
    require_perm(request.user, "email.manage")
    if (kind, language) not in DEFAULT_TEMPLATES:
        raise Http404
    subject, body = template_text(kind, language)
    form = TemplateForm(request.POST or None, initial={"subject": subject, "body": body})
    if request.method == "POST" and form.is_valid():
        try:
            services.save_template(
                actor=_user(request), kind=kind, language=language, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Template saved."))
            return redirect("email:templates")
    return render(
        request,
        "email/template_form.html",
        {
            "form": form,
            "kind": kind,
            "language": language,
            "variables": ["{" + v + "}" for v in VARIABLES],
            "nav": "email",
        },
        status=400 if form.errors else 200,
    )


# --- panels on other apps' pages ------------------------------------------------------------------


def ticket_panel(request: HttpRequest, ticket: Any) -> str:
    """The work order's mail: what came in (with automatic mail marked) and what went out."""
    inbound, outbound = selectors.ticket_mail(ticket)
    if not inbound and not outbound and ticket.channel != "email":
        return ""
    return render_to_string(
        "email/_ticket_panel.html",
        {"inbound": inbound, "outbound": outbound, "ticket": ticket},
        request=request,
    )


def customer_history(customer: Any, user: Any) -> list[Any]:
    from kefu.customers.selectors import HistoryItem
    from kefu.tickets.access import visible_tickets

    rows = selectors.customer_mail(customer, visible_tickets(user))
    return [
        HistoryItem(
            at=row.received_at,
            kind="email",
            title=row.subject or _("(no subject)"),
            detail=row.from_address,
            url=reverse("email:message", args=[row.pk]),
        )
        for row in rows
    ]
