from django.urls import path

from kefu.field import stock_views, views

app_name = "field"

urlpatterns = [
    path("", views.today, name="today"),
    path("visits/", views.visit_list, name="visits"),
    path("visits/<id:pk>/", views.visit_detail, name="visit"),
    path("visits/<id:pk>/move/", views.visit_move, name="visit_move"),
    path("visits/<id:pk>/photos/", views.visit_photos, name="visit_photos"),
    path("photos/<id:pk>/", views.photo, name="photo"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("tickets/<str:number>/panel/", views.panel, name="panel"),
    path("tickets/<str:number>/dispatch/", views.dispatch, name="dispatch"),
    path("tickets/<str:number>/parts/", views.reserve, name="reserve"),
    path("tickets/<str:number>/remote/", views.remote, name="remote"),
    path("remote/<id:pk>/end/", views.remote_end, name="remote_end"),
    path(
        "reservations/<id:pk>/release/",
        views.reservation_action,
        {"action": "release"},
        name="release",
    ),
    path(
        "reservations/<id:pk>/use/",
        views.reservation_action,
        {"action": "consume"},
        name="consume",
    ),
    path("assets/", stock_views.asset_list, name="assets"),
    path("assets/new/", stock_views.asset_form, name="asset_new"),
    path("assets/<id:pk>/", stock_views.asset_detail, name="asset"),
    path("assets/<id:pk>/edit/", stock_views.asset_form, name="asset_edit"),
    path("parts/", stock_views.part_list, name="parts"),
    path("parts/<id:pk>/", stock_views.part_detail, name="part"),
    path("parts/<id:pk>/move/", stock_views.part_move, name="part_move"),
    path("stock/low/", stock_views.low_stock, name="low_stock"),
]
