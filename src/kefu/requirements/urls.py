from django.urls import path

from kefu.requirements import views

app_name = "requirements"

urlpatterns = [
    path("", views.requirement_list, name="list"),
    path("new/", views.create, name="create"),
    path("export/", views.export, name="export"),
    path("from-ticket/<str:number>/", views.raise_from_ticket, name="from_ticket"),
    path("<id:requirement_id>/", views.detail, name="detail"),
    path("<id:requirement_id>/score/", views.score, name="score"),
    path("<id:requirement_id>/move/", views.move, name="move"),
    path("<id:requirement_id>/edit/", views.edit, name="edit"),
    path("<id:requirement_id>/merge/", views.merge, name="merge"),
]
