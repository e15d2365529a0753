from django.urls import path

from kefu.kb import views

app_name = "kb"

urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_create, name="create"),
    path("<id:article_id>/", views.article_detail, name="detail"),
    path("<id:article_id>/edit/", views.article_edit, name="edit"),
    path("<id:article_id>/status/", views.article_transition, name="transition"),
    path("<id:article_id>/versions/<id:number>/", views.version_diff, name="diff"),
    path("<id:article_id>/versions/<id:number>/restore/", views.version_restore, name="restore"),
    path("<id:article_id>/files/", views.file_add, name="file_add"),
    path("<id:article_id>/vote/", views.vote, name="vote"),
    path("<id:article_id>/insert/", views.insert, name="insert"),
    path("files/<id:file_id>/", views.file_download, name="file"),
    path("files/<id:file_id>/remove/", views.file_remove, name="file_remove"),
    path("from-ticket/<str:number>/", views.from_ticket, name="from_ticket"),
]
