from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "kefu.calls"
    label = "calls"
    verbose_name = _("Hotline")

    def ready(self) -> None:
        from kefu.calls import setup

        setup.register()
