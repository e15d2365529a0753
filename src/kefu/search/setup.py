"""What search adds when Kefu starts: its permission, the search page in the menu and the top
bar, labels for the synonym events, and the hook that applies synonym changes at once."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import Perm, Role, is_staff_user
from kefu.core.permissions import register as register_perm


def register() -> None:
    from django.db.models.signals import post_delete, post_save

    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav, register_topbar
    from kefu.search.models import SynonymGroup
    from kefu.search.services import synonyms_changed

    # Any change to a synonym group — the screens, the demo, a shell — applies at once.
    post_save.connect(synonyms_changed, sender=SynonymGroup, dispatch_uid="search-synonyms-save")
    post_delete.connect(
        synonyms_changed, sender=SynonymGroup, dispatch_uid="search-synonyms-delete"
    )

    register_perm(Perm("search.synonyms", "admin", _("Edit search synonyms")), (Role.SUPERVISOR,))
    register_labels(
        {
            "synonyms_added": _("added synonyms"),
            "synonyms_changed": _("changed synonyms"),
            "synonyms_deleted": _("deleted synonyms"),
        }
    )
    register_nav(
        NavItem(
            "search", _("Search"), "search:search", "search", "work", order=5,
            visible=is_staff_user,
        ),
        NavItem(
            "synonyms", _("Search synonyms"), "search:synonyms", "signpost-split", "admin",
            order=80, perm="search.synonyms",
        ),
    )  # fmt: skip
    register_topbar("search/_topbar.html", is_staff_user)
