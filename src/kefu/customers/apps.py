from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kefu.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from kefu.core.dashboard import register_card
        from kefu.core.labels import register_field_labels
        from kefu.core.navigation import NavItem, register_nav
        from kefu.customers.dashboard import customer_card

        register_nav(
            NavItem(
                "customers",
                _("Customers"),
                "customers:list",
                "person-vcard",
                "work",
                order=40,
                perm="customers.view",
            ),
        )
        register_card(customer_card)
        from kefu.customers import search

        search.register()
        register_field_labels(
            {
                "name": _("Name"),
                "organization": _("Organisation"),
                "credit_code": _("Credit code"),
                "industry": _("Industry"),
                "vip_tier": _("VIP tier"),
                "address": _("Address"),
                "tags": _("Tags"),
                "contacts": _("Contact points"),
                "accounts": _("Account numbers"),
                "merged_into": _("Merged into"),
            }
        )
