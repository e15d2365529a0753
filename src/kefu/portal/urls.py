from django.urls import path

from kefu.accounts.views import password_change
from kefu.kb import portal as help_centre
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
    path("help/", help_centre.help_home, name="help"),
    path("help/suggest/", help_centre.help_suggest, name="help_suggest"),
    path("help/category/<id:category_id>/", help_centre.help_category, name="help_category"),
    path("help/<id:article_id>/", help_centre.help_article, name="help_article"),
    path("help/<id:article_id>/vote/", help_centre.help_vote, name="help_vote"),
    path("help/<id:article_id>/suggested/", help_centre.help_suggested, name="help_suggested"),
    path("help/outcome/<id:deflection_id>/", help_centre.help_outcome, name="help_outcome"),
]
