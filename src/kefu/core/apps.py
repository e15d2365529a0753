from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.urls import register_converter

        from kefu.core.converters import IdConverter
        from kefu.core.navigation import NavItem, register_nav

        register_converter(IdConverter, "id")

        register_nav(
            NavItem("core", _("Start"), "core:home", "house", "work", order=0),
            NavItem(
                "audit",
                _("Audit log"),
                "core:audit",
                "journal-text",
                "admin",
                order=80,
                perm="audit.view",
            ),
            NavItem(
                "admin",
                _("Configuration"),
                "admin:index",
                "gear",
                "admin",
                order=90,
                perm="admin_site",
            ),
        )
