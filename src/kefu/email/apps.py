from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmailConfig(AppConfig):
    name = "kefu.email"
    label = "email"
    verbose_name = _("E-mail")

    def ready(self) -> None:
        from kefu.email import setup

        setup.register()
