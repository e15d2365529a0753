from django.urls import path

from kefu.calls import views

app_name = "calls"

urlpatterns = [
    path("", views.call_list, name="list"),
    path("kpi/", views.kpi_page, name="kpi"),
    path("import/", views.import_page, name="import"),
    path("cti/<slug:slug>/", views.cti_webhook, name="cti"),
    path("<id:call_id>/", views.call_detail, name="detail"),
    path("<id:call_id>/pop/", views.screen_pop, name="pop"),
    path("<id:call_id>/<slug:action>/", views.call_action, name="action"),
]
