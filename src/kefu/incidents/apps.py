from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "kefu.incidents"
    label = "incidents"
    verbose_name = _("Major incidents")

    def ready(self) -> None:
        from kefu.incidents import setup

        setup.register()
