"""Background jobs: delivering a survey link by e-mail or SMS (ids in, safe to run twice)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.core import events
from kefu.surveys import services, sms
from kefu.surveys.models import Delivery, Invitation

log = logging.getLogger(__name__)


def survey_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("surveys:answer", args=[services.link_token(invitation)])


def _address(invitation: Invitation, kind: str) -> str:
    customer = invitation.customer
    ticket = invitation.ticket
    if kind == "email" and ticket is not None and ticket.contact_email:
        return ticket.contact_email
    if kind == "phone" and ticket is not None and ticket.contact_phone:
        return ticket.contact_phone
    point = customer.contacts.filter(kind=kind).order_by("-is_primary", "pk").first()
    return point.value if point else ""


@shared_task(name="kefu.surveys.deliver_invitation")
def deliver_invitation_task(invitation_id: int) -> None:
    _deliver(invitation_id)


@shared_task(name="kefu.surveys.deliver_invitations")
def deliver_invitations_task(invitation_ids: list[int]) -> None:
    """Deliver the invitations a batch made (one reply to many work orders), each as
    :func:`deliver_invitation_task` does, the e-mails over one SMTP connection (opened again
    after a failure)."""
    from django.core.mail import get_connection

    connection = get_connection()
    try:
        for invitation_id in invitation_ids:
            if not _deliver(invitation_id, connection):
                connection.close()
    finally:
        connection.close()


def _deliver(invitation_id: int, connection: Any = None) -> bool:
    """Send one invitation's link and record the outcome; False when sending failed."""
    invitation = (
        Invitation.objects.select_related("customer", "ticket").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.address or invitation.status != Invitation.Status.SENT:
        return True  # gone, or already delivered
    kind = "email" if invitation.delivery == Delivery.EMAIL else "phone"
    address = _address(invitation, kind)
    url = survey_url(invitation)
    language = "en" if str(invitation.customer.language).startswith("en") else "zh-hans"
    error = ""
    broken = False  # the mail server failed us: a kept connection is not to be trusted
    if not address:
        error = "no address"
    else:
        with translation.override(language):
            subject = _("How did we do? A short satisfaction survey")
            text = _("Please tell us how satisfied you are with our service: %(url)s") % {
                "url": url
            }
            try:
                if invitation.delivery == Delivery.EMAIL:
                    if connection is not None:
                        connection.open()  # kept open for the next one (no-op when open)
                    send_mail(subject, text, None, [address], connection=connection)
                else:
                    sms.backend().send(address, text)
            except Exception as exc:  # noqa: BLE001 - a failed delivery is recorded, not raised
                log.warning("survey %s not delivered", invitation_id, exc_info=True)
                error = type(exc).__name__
                broken = True
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
        if error:
            invitation.status = Invitation.Status.FAILED
        invitation.address = address[:254]
        invitation.save(update_fields=["status", "address"])
        events.record(
            "survey_not_delivered" if error else "survey_delivered",
            invitation,
            actor=None,
            data={"delivery": invitation.delivery, **({"error": error} if error else {})},
        )
    return not broken
