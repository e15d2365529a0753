"""What the knowledge base adds when Kefu starts: permissions, menus, the help centre in the
portal, the ticket-page panel, search, and event labels."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import STAFF_ROLES, Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "article_created": _("created the article"),
    "article_changed": _("changed the article"),
    "article_status": _("changed the article's status"),
    "article_file_added": _("added a file"),
    "article_file_removed": _("removed a file"),
    "article_review_due": _("review date reached"),
}


def register() -> None:
    from kefu.core.interactions import register_ticket_panel
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav, register_portal_nav
    from kefu.kb import search
    from kefu.kb.views import ticket_panel
    from kefu.portal.home import Section, register_section

    register_perm(Perm("kb.view", "kb:read", _("Read the knowledge base")), STAFF_ROLES)
    register_perm(
        Perm("kb.edit", "kb:write", _("Write knowledge-base articles")),
        (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2, Role.QA),
    )
    register_perm(
        Perm("kb.publish", "kb:write", _("Review, publish and archive articles")),
        (Role.SUPERVISOR,),
    )
    from kefu.core.permissions import SCOPES

    SCOPES.setdefault("kb:read", _("Read knowledge-base articles"))
    SCOPES.setdefault("kb:write", _("Write knowledge-base articles"))
    register_labels(ACTION_LABELS)
    register_nav(
        NavItem("kb", _("Knowledge base"), "kb:list", "journal-text", "work", order=30, perm="kb.view"),
    )  # fmt: skip
    register_portal_nav(15, "help", _("Help centre"), "portal:help")
    register_ticket_panel(ticket_panel)
    search.register()

    def help_section(request: HttpRequest) -> Any:
        from kefu.kb.access import PUBLIC
        from kefu.kb.models import Article

        popular = list(Article.objects.filter(PUBLIC).order_by("-views")[:5])
        if not popular:
            return None
        return Section(order=20, template="kb/portal/_section.html", context={"popular": popular})

    register_section(help_section)
