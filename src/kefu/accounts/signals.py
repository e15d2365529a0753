"""Keeping caches of accounts honest: any change to an API token or to the user behind it
(deactivated, role changed, password reset) drops the cached token at once."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save


def _token_changed(sender: Any, instance: Any, **_kwargs: Any) -> None:
    from kefu.accounts.services import forget_tokens

    forget_tokens([instance.prefix])


def _user_changed(sender: Any, instance: Any, **_kwargs: Any) -> None:
    from kefu.accounts.models import ApiToken
    from kefu.accounts.services import forget_tokens

    if instance.pk is not None:
        forget_tokens(ApiToken.objects.filter(user_id=instance.pk).values_list("prefix", flat=True))


def connect() -> None:
    from kefu.accounts.models import ApiToken, User

    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(_token_changed, sender=ApiToken, dispatch_uid=f"token-cache-{name}")
        signal.connect(_user_changed, sender=User, dispatch_uid=f"user-token-cache-{name}")
