from django.shortcuts import redirect
from django.urls import path

from kefu.sla import views

app_name = "sla"

urlpatterns = [
    path("", views.report, name="report"),
    path("breaches.csv", views.breaches_csv, name="breaches_csv"),
    path("setup/", lambda request: redirect("/admin/sla/"), name="config"),
    path("calendars/<id:calendar_id>/", views.calendar_view, name="calendar"),
    path("tickets/<str:number>/milestone/", views.milestone, name="milestone"),
    path("clocks/<id:clock_id>/reason/", views.breach_reason, name="breach_reason"),
]
