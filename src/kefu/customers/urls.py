from django.urls import path

from kefu.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("lookup/", views.lookup, name="lookup"),
    path("<id:customer_id>/", views.customer_detail, name="detail"),
    path("<id:customer_id>/edit/", views.customer_edit, name="edit"),
    path("<id:customer_id>/merge/", views.merge, name="merge"),
    path("<id:customer_id>/archive/", views.archive, name="archive"),
    path("<id:customer_id>/invite/", views.invite, name="invite"),
    path("<id:customer_id>/contacts/", views.contact_add, name="contact_add"),
    path(
        "<id:customer_id>/contacts/<id:contact_id>/remove/",
        views.contact_remove,
        name="contact_remove",
    ),
    path("<id:customer_id>/accounts/", views.account_add, name="account_add"),
    path(
        "<id:customer_id>/accounts/<id:account_id>/remove/",
        views.account_remove,
        name="account_remove",
    ),
    path("<id:customer_id>/notes/", views.note_add, name="note_add"),
]
