from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequirementsConfig(AppConfig):
    name = "kefu.requirements"
    label = "requirements"
    verbose_name = _("Customer requirements")

    def ready(self) -> None:
        from kefu.requirements import setup

        setup.register()
