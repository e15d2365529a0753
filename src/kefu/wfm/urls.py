from django.urls import path

from kefu.wfm import views

app_name = "wfm"

urlpatterns = [
    path("", views.home, name="home"),
    path("forecasts/new/", views.forecast_new, name="forecast_new"),
    path("forecasts/<id:forecast_id>/", views.forecast_detail, name="forecast"),
    path("overrides/new/", views.override_new, name="override_new"),
    path("rosters/new/", views.roster_new, name="roster_new"),
    path("rosters/<id:roster_id>/", views.roster_detail, name="roster"),
    path("rosters/<id:roster_id>/cell/", views.roster_cell, name="roster_cell"),
    path("rosters/<id:roster_id>/publish/", views.roster_publish, name="roster_publish"),
    path("rosters/<id:roster_id>/export.xlsx", views.roster_export, name="roster_export"),
    path("me/", views.my_schedule, name="me"),
]
