from django.urls import path

from kefu.reports import views

app_name = "reports"

urlpatterns = [
    path("wallboard/", views.wallboard, name="wallboard"),
    path("wallboard/data.json", views.wallboard_data, name="wallboard_data"),
    path("wallboard/thresholds/", views.thresholds, name="thresholds"),
    path("", views.report, name="report"),
    path("export.<str:fmt>", views.export, name="export"),
    path("records/", views.records, name="records"),
    path("periodic/", views.templates, name="templates"),
    path("periodic/new/", views.template_edit, name="template_new"),
    path("periodic/<id:template_id>/", views.template_edit, name="template_edit"),
    path("periodic/<id:template_id>/generate/", views.generate, name="generate"),
    path("runs/<id:run_id>.<str:fmt>", views.run_file, name="run_file"),
]
