"""Sign-in backend: staff by user name, employee number or e-mail; customers by e-mail or phone."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from kefu.accounts.models import User


class KefuBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        portal: bool = False,
        **kwargs: Any,
    ) -> User | None:
        from kefu.accounts.services import find_login_user

        if username is None or password is None:
            return None
        user = find_login_user(username, portal=portal)
        if user is None:
            # Spend the same time as a real check, so timing does not reveal who exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
