from django.urls import path

from kefu.accounts.views import password_change
from kefu.portal import views
from kefu.tickets import portal as tickets

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/link/", views.login_link_request, name="login_link_request"),
    path("login/link/<str:uidb64>/<str:token>/", views.login_link, name="login_link"),
    path("register/", views.register, name="register"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm_view,
        name="password_reset_confirm",
    ),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", password_change, name="password_change"),
    path("requests/", tickets.ticket_list, name="tickets"),
    path("requests/new/", tickets.ticket_new, name="ticket_new"),
    path("requests/<str:number>/", tickets.ticket_detail, name="ticket"),
    path("requests/<str:number>/reply/", tickets.ticket_reply, name="ticket_reply"),
    path("requests/<str:number>/confirm/", tickets.ticket_confirm, name="ticket_confirm"),
]
