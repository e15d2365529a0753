from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WfmConfig(AppConfig):
    name = "kefu.wfm"
    label = "wfm"
    verbose_name = _("Workforce management")

    def ready(self) -> None:
        from kefu.wfm import setup

        setup.register()
