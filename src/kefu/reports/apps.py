from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "kefu.reports"
    label = "reports"
    verbose_name = _("Monitoring and reports")

    def ready(self) -> None:
        from kefu.reports import setup

        setup.register()
