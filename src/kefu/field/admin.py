"""Field-service configuration in the admin site: service levels, stock locations and the
parts catalogue (stock itself moves only through the ledger's screens and API)."""

from __future__ import annotations

from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.field.models import Location, Part, ServiceLevel


@admin.register(ServiceLevel)
class ServiceLevelAdmin(AuditedAdmin):
    list_display = (
        "name",
        "calendar",
        "arrival_minutes",
        "workaround_minutes",
        "resolution_minutes",
    )
    search_fields = ("name",)


@admin.register(Location)
class LocationAdmin(AuditedAdmin):
    list_display = ("name", "kind", "keeper", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "address")
    autocomplete_fields = ()


@admin.register(Part)
class PartAdmin(AuditedAdmin):
    list_display = ("code", "name", "unit", "lead_time_days", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
