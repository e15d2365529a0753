"""Django admin for configuration objects, restricted to administrators, with every change
written to the event log like any other change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import events
from kefu.core.permissions import has_perm

admin.site.site_header = _("Kefu configuration")
admin.site.site_title = _("Kefu configuration")
admin.site.index_title = _("Configuration")
admin.site.site_url = "/"


def _has_permission(request: HttpRequest) -> bool:
    return has_perm(request.user, "admin_site")


def _login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    if request.user.is_authenticated:
        raise PermissionDenied(_("The configuration site is for administrators."))
    return redirect(f"{reverse('accounts:login')}?next={request.GET.get('next', '/admin/')}")


admin.site.has_permission = _has_permission  # type: ignore[method-assign]
admin.site.login = _login  # type: ignore[method-assign]


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Record every create, change and delete made in the admin site."""

    def _fields(self, obj: models.Model) -> list[str]:
        return [f.name for f in obj._meta.concrete_fields if f.name not in ("id", "password")]

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = {}
            if change and obj.pk:
                old = type(obj)._default_manager.get(pk=obj.pk)
                before = events.snapshot(old, self._fields(old))
            super().save_model(request, obj, form, change)
            after = events.snapshot(obj, self._fields(obj))
            events.record(
                "config_changed" if change else "config_created",
                obj,
                actor=request.user,  # type: ignore[arg-type]
                changes=events.diff(before, after),
                data={"model": obj._meta.label},
            )

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        with transaction.atomic():
            snap = events.snapshot(obj, self._fields(obj))
            pk, label = obj.pk, str(obj)
            super().delete_model(request, obj)
            events.record(
                "config_deleted",
                None,
                actor=request.user,  # type: ignore[arg-type]
                object_type=obj._meta.model_name,
                object_id=pk,
                object_repr=label,
                changes=events.diff(snap, {}),
                data={"model": obj._meta.label},
            )

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
