from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kefu.accounts"
    label = "accounts"
    verbose_name = _("Accounts and teams")

    def ready(self) -> None:
        from kefu.accounts import signals
        from kefu.core.labels import register_field_labels

        signals.connect()
        from kefu.core.navigation import NavItem, register_nav

        register_nav(
            NavItem(
                "users",
                _("Staff"),
                "accounts:users",
                "people",
                "manage",
                order=20,
                perm="users.view",
            ),
            NavItem(
                "teams",
                _("Teams"),
                "accounts:teams",
                "diagram-3",
                "manage",
                order=30,
                perm="teams.view",
            ),
        )
        register_field_labels(
            {
                "username": _("User name"),
                "display_name": _("Name"),
                "role": _("Role"),
                "email": _("E-mail"),
                "phone": _("Phone"),
                "employee_no": _("Employee number"),
                "language": _("Language"),
                "is_active": _("Active"),
                "languages": _("Languages"),
                "channels": _("Channels"),
                "capacity": _("Capacity"),
                "extension": _("Phone extension"),
                "skills": _("Skills"),
                "code": _("Code"),
                "kind": _("Kind"),
                "description": _("Description"),
            }
        )
