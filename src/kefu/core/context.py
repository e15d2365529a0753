"""Where a change comes from: the channel, the client address and the request id.

Set once per request (middleware), API call, job or command, and read by the event log so
services do not have to pass it around.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Origin:
    source: str = "system"
    ip: str | None = None
    request_id: str = ""
    via: str = ""  # e.g. the API token's name


_origin: ContextVar[Origin] = ContextVar("kefu_origin", default=Origin())  # noqa: B039 - frozen


def current_origin() -> Origin:
    return _origin.get()


def new_request_id() -> str:
    return secrets.token_hex(8)


@contextlib.contextmanager
def origin(source: str, **fields: str | None) -> Iterator[Origin]:
    """Run a block with the given origin (nested blocks inherit unspecified fields)."""
    value = replace(_origin.get(), source=source, **fields)  # type: ignore[arg-type]
    token = _origin.set(value)
    try:
        yield value
    finally:
        _origin.reset(token)


def set_origin(value: Origin) -> None:
    _origin.set(value)
