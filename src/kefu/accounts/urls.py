from django.urls import path

from kefu.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/reset/", views.password_reset_request, name="password_reset"),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("me/", views.profile, name="profile"),
    path("me/password/", views.password_change, name="password_change"),
    path("me/tokens/", views.tokens, name="tokens"),
    path("me/tokens/<id:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<id:user_id>/", views.user_detail, name="user_detail"),
    path("teams/", views.team_list, name="teams"),
    path("teams/new/", views.team_form, name="team_create"),
    path("teams/<id:team_id>/", views.team_detail, name="team_detail"),
    path("teams/<id:team_id>/edit/", views.team_form, name="team_edit"),
]
