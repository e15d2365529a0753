from django.urls import path

from kefu.qa import views

app_name = "qa"

urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),
    path("calibrate/", views.calibrate, name="calibrate"),
    path("external/", views.external, name="external"),
    path("reports/", views.reports, name="reports"),
    path("reviews/<id:pk>/", views.review_page, name="review"),
    path("reviews/<id:pk>/take/", views.take, name="take"),
    path("plans/<id:pk>/run/", views.run_plan, name="run_plan"),
    path("calibration/<id:pk>/", views.calibration_page, name="calibration"),
    path("coaching/<id:pk>/done/", views.coaching_done, name="coaching_done"),
]
