from django.urls import path

from kefu.incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("declare/", views.declare, name="declare"),
    path("<id:incident_id>/", views.detail, name="detail"),
    path("<id:incident_id>/progress/", views.progress, name="progress"),
    path("<id:incident_id>/publish/", views.publish, name="publish"),
    path("<id:incident_id>/resolve/", views.resolve, name="resolve"),
    path("<id:incident_id>/answer/", views.answer, name="answer"),
    path("<id:incident_id>/close/", views.close, name="close"),
    path("<id:incident_id>/scope/", views.scope, name="scope"),
    path("<id:incident_id>/match/", views.link_matching, name="match"),
    path("<id:incident_id>/link/", views.link_ticket, name="link"),
    path("<id:incident_id>/links/<id:link_id>/unlink/", views.unlink, name="unlink"),
    path("<id:incident_id>/export/", views.export, name="export"),
]
