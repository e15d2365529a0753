"""Chat screens.

Guests (no account): the embed script, the widget frame, and the frame's JSON endpoints. The
frame is served by Kefu and may only be framed by the widget's allowed origins (CSP
``frame-ancestors``); the frame's own requests are same-origin and carry the guest token in the
``X-Chat-Token`` header, never a guessable id. Staff: the agent console and its actions.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from kefu.accounts.models import User
from kefu.chat import selectors, services
from kefu.chat.access import access_chat, chat_right
from kefu.chat.models import Conversation, Message, Widget, WrapUpCode
from kefu.core.files import protected_file_response
from kefu.core.permissions import has_perm, require_perm
from kefu.core.ratelimit import hit
from kefu.core.validation import parse_id

log = logging.getLogger("kefu.chat")
STATIC = Path(__file__).resolve().parent / "static" / "chat"


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {"": [str(m) for m in exc.messages]}


def _refuse(message: str, status: int, **fields: Any) -> JsonResponse:
    return JsonResponse({"error": message, **fields}, status=status)


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _own_origin(request: HttpRequest) -> str:
    return services.normalize_origin(f"{request.scheme}://{request.get_host()}")


def _embed_allowed(widget: Widget, origin: str, request: HttpRequest) -> bool:
    """The embedding page's origin is one of the widget's, or Kefu itself (the demo page)."""
    wanted = services.normalize_origin(origin)
    return bool(wanted) and (
        services.origin_allowed(widget, wanted) or wanted == _own_origin(request)
    )


def _same_origin_post(request: HttpRequest) -> bool:
    """The frame's own requests: a browser sends Origin on a POST; it must be Kefu's."""
    origin = request.headers.get("Origin")
    return origin is None or services.normalize_origin(origin) == _own_origin(request)


def _guest(request: HttpRequest) -> Conversation:
    return services.conversation_for_token(request.headers.get("X-Chat-Token", ""))


def _limited(request: HttpRequest, what: str, limit: int, seconds: int) -> bool:
    window = hit(f"chat:{what}:{_client_ip(request)}", limit, seconds)
    if not window.allowed:
        log.info("chat %s refused for %s: over %s per %ss", what, _client_ip(request), limit,
                 seconds)  # fmt: skip
    return not window.allowed


def _language(request: HttpRequest) -> str:
    lang = request.GET.get("lang", "")
    if lang.startswith("en"):
        return "en"
    if lang.startswith("zh"):
        return "zh-hans"
    return translation.get_language() or "zh-hans"


# --- the embed script and the frame -----------------------------------------------------------


@cache
def _widget_js() -> bytes:
    return (STATIC / "widget.js").read_bytes()


@require_GET
def widget_js(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_widget_js(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@xframe_options_exempt
@require_GET
def frame(request: HttpRequest, key: str) -> HttpResponse:
    """The widget itself, inside the iframe the embed script adds."""
    widget = Widget.objects.filter(key=key[:32], active=True).first()
    if widget is None:
        raise Http404
    origin = request.GET.get("origin", "")
    lang = _language(request)
    with translation.override(lang):
        if not _embed_allowed(widget, origin, request):
            log.info("chat widget %s refused on %r: not an allowed origin", widget.pk, origin[:100])
            response = render(request, "chat/refused.html", {"origin": origin[:100]}, status=403)
            response["Content-Security-Policy"] = "frame-ancestors *"
            return response
        from kefu.core.interactions import current_notices

        context = {
            "widget": widget,
            "origin": services.normalize_origin(origin),
            "lang": lang,
            "notices": current_notices("chat"),
            "max_file_mb": services.MAX_FILE_BYTES // 1048576,
            "accept": ",".join(sorted(services.FILE_TYPES)),
            "config": {
                "key": widget.key,
                "origin": services.normalize_origin(origin),
                "lang": lang,
                "ws": "/ws/chat/guest/",
                "urls": {
                    "status": reverse("chat:status", args=[widget.key]),
                    "start": reverse("chat:start", args=[widget.key]),
                    "offline": reverse("chat:offline", args=[widget.key]),
                    "upload": reverse("chat:guest_upload"),
                    "end": reverse("chat:guest_end"),
                    "rate": reverse("chat:guest_rate"),
                    "file": reverse("chat:guest_file", args=[999999999]).replace(
                        "999999999", "{id}"
                    ),
                },
            },
        }
        response = render(request, "chat/frame.html", context)
    ancestors = " ".join(
        sorted({services.normalize_origin(o) for o in widget.allowed_origins} - {""})
    )
    nonce = getattr(request, "csp_nonce", "")
    response["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self' ws: wss:; "
        f"frame-ancestors 'self' {ancestors}; base-uri 'none'; form-action 'self'; "
        "object-src 'none'"
    )
    return response


@require_GET
def status(request: HttpRequest, key: str) -> JsonResponse:
    """Whether someone can take a chat now (else the widget shows the offline form)."""
    widget = Widget.objects.filter(key=key[:32], active=True).first()
    if widget is None:
        return _refuse(_("This chat is closed."), 404)
    return JsonResponse({"online": services.agents_available(widget)})


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise ValidationError(_("The request is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise ValidationError(_("The request is not valid JSON."))
        return data
    return request.POST.dict()


@csrf_exempt  # guests have no session; the Origin check and the token stand in for it
@require_POST
def start(request: HttpRequest, key: str) -> JsonResponse:
    widget = Widget.objects.filter(key=key[:32], active=True).first()
    if widget is None:
        return _refuse(_("This chat is closed."), 404)
    if not _same_origin_post(request):
        log.info("chat start refused: request from %r", request.headers.get("Origin"))
        return _refuse(_("Chats are started from the chat window."), 403)
    if _limited(request, "start", 20, 600):
        return _refuse(_("Too many chats from this address; try again later."), 429)
    try:
        data = _json_body(request)
        origin = str(data.get("origin", ""))
        if not _embed_allowed(widget, origin, request):
            log.info("chat start refused on %r: not an allowed origin", origin[:100])
            return _refuse(_("This website may not start chats."), 403)
        if not services.agents_available(widget):
            return JsonResponse({"offline": True})
        conversation = services.start_chat(
            widget=widget,
            name=str(data.get("name", "")),
            contact=str(data.get("contact", "")),
            topic=str(data.get("topic", "")),
            origin=origin,
            language=str(data.get("lang", "zh-hans")),
        )
    except ValidationError as exc:
        return _refuse(_("Please check the form."), 422, fields=_errors(exc))
    return JsonResponse(
        {"token": services.guest_token(conversation), "conv": conversation.pk}, status=201
    )


@csrf_exempt
@require_POST
def offline(request: HttpRequest, key: str) -> JsonResponse:
    widget = Widget.objects.filter(key=key[:32], active=True).first()
    if widget is None:
        return _refuse(_("This chat is closed."), 404)
    if not _same_origin_post(request):
        return _refuse(_("Messages are left from the chat window."), 403)
    if _limited(request, "offline", 10, 600):
        return _refuse(_("Too many messages from this address; try again later."), 429)
    try:
        data = _json_body(request)
        if not _embed_allowed(widget, str(data.get("origin", "")), request):
            return _refuse(_("This website may not start chats."), 403)
        ticket = services.leave_offline_message(
            widget=widget,
            name=str(data.get("name", "")),
            contact=str(data.get("contact", "")),
            topic=str(data.get("topic", "")),
            body=str(data.get("body", "")),
        )
    except ValidationError as exc:
        return _refuse(_("Please check the form."), 422, fields=_errors(exc))
    return JsonResponse({"ticket": ticket.number}, status=201)


def _guest_call(request: HttpRequest) -> Conversation | JsonResponse:
    if not _same_origin_post(request):
        return _refuse(_("Only the chat window may do this."), 403)
    try:
        return _guest(request)
    except PermissionDenied as exc:
        log.info("chat guest request refused: %s", exc)
        return _refuse(str(exc), 403)


@csrf_exempt
@require_POST
def guest_upload(request: HttpRequest) -> JsonResponse:
    found = _guest_call(request)
    if isinstance(found, JsonResponse):
        return found
    if _limited(request, f"upload:{found.pk}", 20, 600):
        return _refuse(_("Too many files; try again later."), 429)
    upload = request.FILES.get("file")
    if upload is None:
        return _refuse(_("Choose a file."), 422, fields={"file": [_("Choose a file.")]})
    try:
        message, created = services.post_message(
            conversation_id=found.pk,
            sender=Message.Sender.GUEST,
            body=request.POST.get("body", ""),
            client_id=request.POST.get("cid") or None,
            upload=upload,
        )
    except ValidationError as exc:
        return _refuse(_("The file was not sent."), 422, fields=_errors(exc))
    if created:
        services.announce(message)
    return JsonResponse({"seq": message.seq, "cid": message.client_id}, status=201)


@require_GET
def guest_file(request: HttpRequest, message_id: int) -> HttpResponseBase:
    try:
        conversation = services.conversation_for_token(request.GET.get("t", ""))
    except PermissionDenied:
        raise Http404 from None
    message = get_object_or_404(
        Message.objects.exclude(sender=Message.Sender.WHISPER),
        pk=message_id,
        conversation_id=conversation.pk,
    )
    if not message.file:
        raise Http404
    return protected_file_response(
        message.file, name=message.file_name, content_type=message.content_type,
        size=message.size, inline=message.is_image,
    )  # fmt: skip


@csrf_exempt
@require_POST
def guest_end(request: HttpRequest) -> JsonResponse:
    found = _guest_call(request)
    if isinstance(found, JsonResponse):
        return found
    conversation = services.end_chat(actor=None, conversation=found)
    return JsonResponse({"state": conversation.state})


@csrf_exempt
@require_POST
def guest_rate(request: HttpRequest) -> JsonResponse:
    found = _guest_call(request)
    if isinstance(found, JsonResponse):
        return found
    try:
        data = _json_body(request)
        services.rate_chat(
            conversation=found, rating=data.get("rating"), comment=str(data.get("comment", ""))
        )
    except ValidationError as exc:
        return _refuse(_("The rating was not saved."), 422, fields=_errors(exc))
    return JsonResponse({"rated": True})


@xframe_options_exempt
def demo(request: HttpRequest) -> HttpResponse:
    """A sample page with the embed line, as a customer's website would have it."""
    widget = Widget.objects.filter(active=True).order_by("pk").first()
    return render(request, "chat/demo.html", {"widget": widget})


# --- staff ---------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    """The signed-in person (the views below are behind ``login_required``)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _staff_or_404(request: HttpRequest) -> None:
    if not (has_perm(request.user, "chat.work") or has_perm(request.user, "chat.supervise")):
        raise Http404


@login_required
def console(request: HttpRequest) -> HttpResponse:
    _staff_or_404(request)
    services.sync_assignments()
    user = request.user
    context = {
        "nav": "chat",
        "mine": selectors.my_chats(user),
        "waiting": selectors.waiting_chats(user),
        "live": selectors.live_chats() if has_perm(user, "chat.supervise") else [],
        "supervisor": has_perm(user, "chat.supervise"),
        "open_id": parse_id(request.GET.get("open")),
    }
    return render(request, "chat/console.html", context)


@login_required
def panel(request: HttpRequest, pk: int) -> HttpResponse:
    """One chat's side panel: the customer card, history, tools and actions."""
    conversation = access_chat(request.user, pk)
    right = chat_right(request.user, pk)
    return render(
        request, "chat/_panel.html", selectors.panel_context(request.user, conversation, right)
    )


def _act(request: HttpRequest, pk: int, action: Any) -> HttpResponse:
    conversation = access_chat(request.user, pk, write=True)
    try:
        result = action(conversation)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(m for v in _errors(exc).values() for m in v)},
                            status=422)  # fmt: skip
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc) or _("You may not do this.")}, status=403)
    return JsonResponse(result or {"ok": True})


@login_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    def run(conversation: Conversation) -> dict[str, Any]:
        services.accept_chat(actor=_user(request), conversation=conversation)
        return {"ok": True}

    require_perm(request.user, "chat.work")
    conversation = Conversation.objects.filter(pk=pk, state=Conversation.State.WAITING).first()
    if conversation is None or conversation.queue_item is None:
        return JsonResponse({"error": _("This chat is not waiting.")}, status=422)
    item = conversation.queue_item
    if item.agent_id not in (None, request.user.pk):
        raise Http404
    try:
        run(conversation)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(m for v in _errors(exc).values() for m in v)},
                            status=422)  # fmt: skip
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    return JsonResponse({"ok": True})


@login_required
@require_POST
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    from kefu.accounts.models import Team

    agent_id = parse_id(request.POST.get("agent"))
    team_id = parse_id(request.POST.get("team"))
    agent = User.objects.filter(pk=agent_id, is_active=True).first() if agent_id else None
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    return _act(request, pk, lambda c: services.transfer_chat(
        actor=_user(request), conversation=c, agent=agent, team=team,
        note=request.POST.get("note", "")) and None)  # fmt: skip


@login_required
@require_POST
def end(request: HttpRequest, pk: int) -> HttpResponse:
    code_id = parse_id(request.POST.get("wrap_up"))
    code = WrapUpCode.objects.filter(pk=code_id).first() if code_id else None
    return _act(request, pk, lambda c: services.end_chat(
        actor=_user(request), conversation=c, wrap_up=code,
        note=request.POST.get("note", "")) and None)  # fmt: skip


@login_required
@require_POST
def make_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    from kefu.tickets.models import TicketType

    type_id = parse_id(request.POST.get("ticket_type"))
    ticket_type = TicketType.objects.filter(pk=type_id).first() if type_id else None

    def run(conversation: Conversation) -> dict[str, Any]:
        if ticket_type is None:
            raise ValidationError({"ticket_type": [_("Choose a type.")]})
        ticket = services.create_ticket_from_chat(
            actor=_user(request), conversation=conversation, ticket_type=ticket_type,
            title=request.POST.get("title", ""),
        )  # fmt: skip
        return {"ticket": ticket.number, "url": reverse("tickets:detail", args=[ticket.number])}

    return _act(request, pk, run)


@login_required
@require_POST
def link(request: HttpRequest, pk: int) -> HttpResponse:
    from kefu.tickets.access import access_ticket

    number = request.POST.get("number", "").strip()[:40]

    def run(conversation: Conversation) -> dict[str, Any]:
        try:
            ticket = access_ticket(request.user, number)
        except Http404:
            raise ValidationError({"number": [_("No work order %(n)s.") % {"n": number}]}) from None
        services.link_ticket(actor=_user(request), conversation=conversation, ticket=ticket)
        return {"ticket": ticket.number, "url": reverse("tickets:detail", args=[ticket.number])}

    return _act(request, pk, run)


@login_required
@require_POST
def confirm_customer(request: HttpRequest, pk: int) -> HttpResponse:
    from kefu.chat.selectors import suggested_customer
    from kefu.core.validation import parse_id

    def run(conversation: Conversation) -> dict[str, Any]:
        suggested = suggested_customer(request.user, conversation)
        if suggested is None or suggested.pk != parse_id(request.POST.get("customer")):
            raise ValidationError(
                {"customer": [_("This customer is not the match suggested for this chat.")]}
            )
        services.confirm_customer(actor=_user(request), conversation=conversation,
                                  customer=suggested)  # fmt: skip
        return {"ok": True}

    return _act(request, pk, run)


@login_required
@require_POST
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = access_chat(request.user, pk, write=True)
    if not services.is_chat_agent(request.user, conversation):
        return JsonResponse({"error": _("Only the agent in this chat can send files.")}, status=403)
    file = request.FILES.get("file")
    if file is None:
        return JsonResponse({"error": _("Choose a file.")}, status=422)
    try:
        message, created = services.post_message(
            conversation_id=conversation.pk, sender=Message.Sender.AGENT,
            body=request.POST.get("body", ""), client_id=request.POST.get("cid") or None,
            author=_user(request), upload=file,
        )  # fmt: skip
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(m for v in _errors(exc).values() for m in v)},
                            status=422)  # fmt: skip
    if created:
        services.announce(message)
    return JsonResponse({"seq": message.seq}, status=201)


@login_required
def staff_file(request: HttpRequest, message_id: int) -> HttpResponseBase:
    message = get_object_or_404(Message, pk=message_id)
    access_chat(request.user, message.conversation_id)
    if not message.file:
        raise Http404
    return protected_file_response(
        message.file, name=message.file_name, content_type=message.content_type,
        size=message.size, inline=message.is_image,
    )  # fmt: skip


@login_required
def canned(request: HttpRequest) -> JsonResponse:
    """Standard phrases (标准服务用语) the agent may insert, as the ticket page offers them."""
    _staff_or_404(request)
    from kefu.tickets.services import canned_for

    return JsonResponse(
        {
            "items": [
                {"id": c.pk, "title": c.title, "text": c.body, "shortcut": c.shortcut}
                for c in canned_for(_user(request))
            ]
        }  # fmt: skip
    )


@login_required
def kb_search(request: HttpRequest) -> JsonResponse:
    """Published articles for the knowledge-base insert (the text comes from ``kb:insert``)."""
    _staff_or_404(request)
    from kefu.search.services import Filters, search

    q = request.GET.get("q", "").strip()[:100]
    if not q:
        return JsonResponse({"items": []})
    result = search(request.user, q, Filters(kinds=("article",)), limit=8)
    return JsonResponse(
        {"items": [{"id": h.object_id, "title": h.title,
                    "insert": reverse("kb:insert", args=[h.object_id])} for h in result.hits]}
    )  # fmt: skip


@login_required
def transcript(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = access_chat(request.user, pk)
    for_staff = chat_right(request.user, pk) != "read" or has_perm(request.user, "chat.supervise")
    rows = services.messages_after(conversation.pk, 0, for_staff=for_staff, limit=5000)
    return render(
        request, "chat/transcript.html",
        {"nav": "chat", "conversation": conversation, "rows": rows},
    )  # fmt: skip


# --- the shared screens --------------------------------------------------------------------


def ticket_panel(request: HttpRequest, ticket: Any) -> str:
    """The chats a work order came from, with their transcripts (as the viewer may read them)."""
    if not has_perm(request.user, "chat.view"):
        return ""
    chats = list(Conversation.objects.filter(ticket=ticket).order_by("-created_at")[:5])
    if not chats:
        return ""
    rows = {c.pk: services.messages_after(c.pk, 0, for_staff=False, limit=200) for c in chats}
    return render_to_string(
        "chat/_ticket_panel.html",
        {"chats": [(c, rows[c.pk]) for c in chats]},
        request=request,
    )


def customer_history(customer: Any, user: Any) -> list[Any]:
    from kefu.customers.selectors import HistoryItem

    if not has_perm(user, "chat.view"):
        return []
    rows = Conversation.objects.filter(customer=customer).order_by("-created_at")[:20]
    return [
        HistoryItem(
            at=row.created_at,
            kind="chat",
            title=_("Chat: %(t)s") % {"t": row.topic or row.guest_name},
            detail=escape(row.get_state_display()),
            url=reverse("chat:transcript", args=[row.pk]),
        )
        for row in rows
    ]
