"""Keeping caches of accounts honest: any change to an API token or to the user behind it
(deactivated, role changed, password reset) drops the cached token at once, and any change to
the user, their teams or their session makes their open live sockets check access again."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save


def _token_changed(sender: Any, instance: Any, **_kwargs: Any) -> None:
    from kefu.accounts.services import forget_tokens

    forget_tokens([instance.prefix])


def _user_changed(sender: Any, instance: Any, **_kwargs: Any) -> None:
    from kefu.accounts.models import ApiToken
    from kefu.accounts.services import forget_tokens
    from kefu.core.realtime import recheck_user

    if instance.pk is not None:
        forget_tokens(ApiToken.objects.filter(user_id=instance.pk).values_list("prefix", flat=True))
        recheck_user(instance.pk)


def _membership_changed(sender: Any, instance: Any, **_kwargs: Any) -> None:
    from kefu.core.realtime import recheck_user

    recheck_user(instance.user_id)


def _signed_out(sender: Any, request: Any, user: Any, **_kwargs: Any) -> None:
    from kefu.core.realtime import recheck_user

    if user is not None and user.pk is not None:
        recheck_user(user.pk)


def connect() -> None:
    from django.contrib.auth.signals import user_logged_out

    from kefu.accounts.models import ApiToken, Membership, User

    user_logged_out.connect(_signed_out, dispatch_uid="live-recheck-logout")
    post_delete.connect(_membership_changed, sender=Membership, dispatch_uid="live-recheck-team")

    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(_token_changed, sender=ApiToken, dispatch_uid=f"token-cache-{name}")
        signal.connect(_user_changed, sender=User, dispatch_uid=f"user-token-cache-{name}")
