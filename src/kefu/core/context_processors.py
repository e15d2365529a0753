from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kefu.core.navigation import PORTAL_NAV, nav_for, topbar_for
from kefu.core.permissions import is_staff_user


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    staff = is_staff_user(user)
    match = getattr(request, "resolver_match", None)
    return {
        "kefu_nav": nav_for(user) if staff else [],
        "kefu_topbar": topbar_for(user) if staff else [],
        "kefu_is_staff": staff,
        "kefu_nav_active": getattr(request, "nav_key", "") or (match.namespace if match else ""),
        "kefu_languages": settings.LANGUAGES,
        "csp_nonce": getattr(request, "csp_nonce", ""),
        "kefu_production": settings.PRODUCTION,
        "kefu_portal_nav": [(key, label, url) for _order, key, label, url in PORTAL_NAV],
    }
