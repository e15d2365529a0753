from django.urls import path

from kefu.search import views

app_name = "search"

urlpatterns = [
    path("", views.search, name="search"),
    path("synonyms/", views.synonyms, name="synonyms"),
    path("synonyms/<id:group_id>/", views.synonym_edit, name="synonym_edit"),
]
