from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QaConfig(AppConfig):
    name = "kefu.qa"
    label = "qa"
    verbose_name = _("Quality inspection")

    def ready(self) -> None:
        from kefu.qa import setup

        setup.register()
