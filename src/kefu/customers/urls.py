from django.urls import path

from kefu.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("lookup/", views.lookup, name="lookup"),
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<int:customer_id>/merge/", views.merge, name="merge"),
    path("<int:customer_id>/archive/", views.archive, name="archive"),
    path("<int:customer_id>/invite/", views.invite, name="invite"),
    path("<int:customer_id>/contacts/", views.contact_add, name="contact_add"),
    path(
        "<int:customer_id>/contacts/<int:contact_id>/remove/",
        views.contact_remove,
        name="contact_remove",
    ),
    path("<int:customer_id>/accounts/", views.account_add, name="account_add"),
    path(
        "<int:customer_id>/accounts/<int:account_id>/remove/",
        views.account_remove,
        name="account_remove",
    ),
    path("<int:customer_id>/notes/", views.note_add, name="note_add"),
]
