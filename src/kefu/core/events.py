"""Writing the event log.

Services call :func:`record` inside the transaction that changes a record; :func:`snapshot`
and :func:`diff` produce the before/after pairs. Values are stored as JSON: dates as ISO
strings, related objects as their primary keys, many-to-many sets as sorted lists.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone

from kefu.core.context import current_origin
from kefu.core.models import Event

if TYPE_CHECKING:
    from kefu.accounts.models import User

SYSTEM_LABEL = "系统"


def jsonable(value: Any) -> Any:
    """A JSON-friendly form of a model field value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if hasattr(value, "name") and hasattr(value, "url"):  # FieldFile
        return value.name or None
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Current values of ``fields`` (foreign keys by id, many-to-many as sorted id lists)."""
    result: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            if obj.pk is None:
                result[name] = []
            else:
                result[name] = sorted(getattr(obj, name).values_list("pk", flat=True))
        elif field.is_relation and field.many_to_one:
            result[name] = getattr(obj, field.attname)  # type: ignore[union-attr]
        else:
            result[name] = jsonable(getattr(obj, name))
    return result


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as ``{field: [before, after]}``."""
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = jsonable(before.get(key)), jsonable(after.get(key))
        if old != new:
            changes[key] = [old, new]
    return changes


def actor_label(actor: User | None) -> str:
    if actor is None:
        return SYSTEM_LABEL
    return actor.display_label


def _require_transaction(action: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            f"recording {action!r} must run inside the transaction that makes the change "
            "(wrap the service in transaction.atomic)."
        )


def _builder(actor: User | None) -> Callable[..., Event]:
    """Events by one actor in the current request or job: who and from where, filled in once."""
    origin = current_origin()
    label = actor_label(actor)
    if origin.via:
        label = f"{label} ({origin.via})"
    by = actor if actor is not None and actor.pk else None

    def build(
        action: str,
        *,
        object_type: str,
        object_id: int,
        object_repr: str,
        changes: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        at: dt.datetime,
    ) -> Event:
        return Event(
            at=at,
            actor=by,
            actor_label=label[:150],
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr[:200],
            changes=jsonable(dict(changes or {})),
            data=jsonable(dict(data or {})),
            source=origin.source,
            ip=origin.ip,
            request_id=origin.request_id,
        )

    return build


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    actor: User | None,
    changes: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    object_repr: str | None = None,
    at: dt.datetime | None = None,
) -> Event:
    """Append an event. Must run inside the transaction that makes the change.

    ``at`` is only for imports of historical records; live changes take the current time."""
    _require_transaction(action)
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id if object_id is not None else obj.pk
        object_repr = object_repr if object_repr is not None else str(obj)
    if object_type is None or object_id is None:
        raise ValueError("record() needs an object or object_type and object_id")
    event = _builder(actor)(
        action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr or "",
        changes=changes,
        data=data,
        at=at or timezone.now(),
    )
    event.save(force_insert=True)
    return event


def record_many(
    action: str,
    objs_data: Iterable[tuple[models.Model, Mapping[str, Any]]],
    *,
    actor: User | None,
) -> list[Event]:
    """Append one event per object in a single INSERT (for batch work such as dispatching);
    the same rules as :func:`record`."""
    _require_transaction(action)
    build = _builder(actor)
    now = timezone.now()
    return Event.objects.bulk_create(
        build(
            action,
            object_type=obj._meta.model_name or "",
            object_id=obj.pk,
            object_repr=str(obj),
            changes=None,
            data=data,
            at=now,
        )
        for obj, data in objs_data
    )


def history(object_type: str, object_id: int, limit: int = 200) -> list[Event]:
    """The newest events of one object."""
    return list(
        Event.objects.for_object(object_type, object_id)
        .select_related("actor")
        .order_by("-id")[:limit]
    )
