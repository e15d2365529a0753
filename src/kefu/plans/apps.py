from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "kefu.plans"
    label = "plans"
    verbose_name = _("Service plans and inspections")

    def ready(self) -> None:
        from kefu.plans import setup

        setup.register()
