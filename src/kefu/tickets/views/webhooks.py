"""Administrators' webhook screens: targets, events, secret, and the delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from kefu.core.permissions import require_perm
from kefu.core.validation import parse_id
from kefu.tickets.models import Webhook, WebhookDelivery
from kefu.tickets.services import webhooks as hooks
from kefu.tickets.views.common import error_text, staff


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "webhooks.manage")
    error = ""
    if request.method == "POST":
        try:
            webhook = hooks.create_webhook(
                actor=user,
                name=request.POST.get("name", ""),
                url=request.POST.get("url", ""),
                events_=request.POST.getlist("events"),
                allow_private=request.POST.get("allow_private") == "on",
            )
        except ValidationError as exc:
            error = error_text(exc)
        else:
            messages.success(
                request, _("Webhook created. Its signing secret is shown on its page.")
            )
            return redirect("tickets:webhook", webhook_id=webhook.pk)
    return render(
        request,
        "tickets/webhooks.html",
        {
            "webhooks": Webhook.objects.all(),
            "events": hooks.webhook_events(),
            "error": error,
            "posted": request.POST,
            "nav": "webhooks",
        },
    )


@login_required
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    user = staff(request)
    require_perm(user, "webhooks.manage")
    webhook = get_object_or_404(Webhook, pk=webhook_id)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "delete":
                hooks.delete_webhook(actor=user, webhook=webhook)
                messages.success(request, _("Webhook deleted."))
                return redirect("tickets:webhooks")
            if action == "redeliver":
                delivery = get_object_or_404(
                    WebhookDelivery, pk=parse_id(request.POST.get("delivery")) or 0, webhook=webhook
                )
                hooks.redeliver(actor=user, delivery=delivery)
                messages.success(request, _("Delivery queued again."))
            else:
                hooks.update_webhook(
                    actor=user,
                    webhook=webhook,
                    changes={
                        "name": request.POST.get("name", ""),
                        "url": request.POST.get("url", ""),
                        "events": request.POST.getlist("events"),
                        "is_active": request.POST.get("is_active") == "on",
                        "allow_private": request.POST.get("allow_private") == "on",
                    },
                    rotate_secret=action == "rotate",
                )
                messages.success(request, _("Saved."))
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        return redirect("tickets:webhook", webhook_id=webhook.pk)
    deliveries = webhook.deliveries.all()[:100]
    return render(
        request,
        "tickets/webhook.html",
        {
            "webhook": webhook,
            "deliveries": deliveries,
            "events": hooks.webhook_events(),
            "nav": "webhooks",
        },
    )
