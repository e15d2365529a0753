"""Account jobs: password-reset and sign-in-link mails, looked up and sent off the request."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="kefu.accounts.send_account_mail")
def send_account_mail_task(kind: str, email: str, portal: bool) -> None:
    """Send the mail a sign-in page asked for, if an account has the address (else nothing)."""
    from kefu.accounts import services

    if kind == "reset":
        services.send_password_reset(email, portal=portal)
    elif kind == "link":
        services.send_login_link(email)
