"""Which calls a user may load. Every path (screens, API, screen pop, exports) goes through
these."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kefu.calls.models import Call
from kefu.core.permissions import has_perm, require_perm


def visible_calls(user: Any) -> QuerySet[Call]:
    """Everyone with ``calls.view`` sees every call (the hotline is shared work); others none."""
    if has_perm(user, "calls.view"):
        return Call.objects.all()
    return Call.objects.none()


def access_call(user: Any, pk: Any, *, perm: str = "calls.view") -> Call:
    """One call for ``user``: 404 when they may not see it, 403 when they may not ``perm``."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    call = (
        visible_calls(user)
        .select_related("customer", "ticket", "user", "wrapup")
        .filter(pk=pk)
        .first()
    )
    if call is None:
        raise Http404
    require_perm(user, perm)
    return call
