from django.contrib import admin
from django.urls import include, path, re_path

from kefu.config.api import api
from kefu.core.api_base import api_not_found

urlpatterns = [
    path("", include("kefu.core.urls")),
    path("", include("kefu.accounts.urls")),
    path("customers/", include("kefu.customers.urls")),
    path("tickets/", include("kefu.tickets.urls")),
    path("sla/", include("kefu.sla.urls")),
    path("queues/", include("kefu.routing.urls")),
    path("portal/", include("kefu.portal.urls")),
    path("kb/", include("kefu.kb.urls")),
    path("wfm/", include("kefu.wfm.urls")),
    path("calls/", include("kefu.calls.urls")),
    path("search/", include("kefu.search.urls")),
    path("email/", include("kefu.email.urls")),
    path("surveys/", include("kefu.surveys.urls")),
    path("qa/", include("kefu.qa.urls")),
    path("chat/", include("kefu.chat.urls")),
    path("reports/", include("kefu.reports.urls")),
    path("field/", include("kefu.field.urls")),
    path("plans/", include("kefu.plans.urls")),
    path("requirements/", include("kefu.requirements.urls")),
    path("incidents/", include("kefu.incidents.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]

handler400 = "kefu.core.views.bad_request"
handler403 = "kefu.core.views.permission_denied"
handler404 = "kefu.core.views.page_not_found"
handler500 = "kefu.core.views.server_error"
