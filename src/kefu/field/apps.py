from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    name = "kefu.field"
    label = "field"
    verbose_name = _("Field service")

    def ready(self) -> None:
        from kefu.field import setup

        setup.register()
