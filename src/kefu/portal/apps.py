from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "kefu.portal"
    label = "portal"
    verbose_name = _("Customer portal")

    def ready(self) -> None:
        from kefu.core.navigation import register_portal_nav

        register_portal_nav(0, "home", _("Home"), "portal:home")
        register_portal_nav(90, "profile", _("My profile"), "portal:profile")
