from django.urls import path

from kefu.routing import views

app_name = "routing"

urlpatterns = [
    path("", views.board, name="board"),
    path("body/", views.board_body, name="board_body"),
    path("presence/", views.set_presence, name="presence"),
    path("offers/", views.offers, name="offers"),
    path(
        "items/<id:item_id>/<str:action>/",
        views.act,
        name="act",
    ),
]
