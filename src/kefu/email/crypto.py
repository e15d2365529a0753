"""Mailbox passwords at rest: Fernet (AES-128-CBC with HMAC-SHA256), keyed from the project's
secret key, so a copy of the database alone does not reveal them."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"kefu.email.credentials:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret: str) -> str:
    if not secret:
        return ""
    return _fernet().encrypt(secret.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The stored secret; "" when none is stored. Raises ValueError when the secret key changed
    since it was stored (the administrator enters the password again)."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise ValueError("stored password cannot be read with this secret key") from None
