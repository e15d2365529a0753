from django.urls import path

from kefu.email import views

app_name = "email"

urlpatterns = [
    path("", views.mailboxes, name="mailboxes"),
    path("new/", views.mailbox_new, name="mailbox_new"),
    path("<id:mailbox_id>/", views.mailbox_edit, name="mailbox"),
    path("<id:mailbox_id>/test/", views.mailbox_test, name="mailbox_test"),
    path("<id:mailbox_id>/fetch/", views.mailbox_fetch, name="mailbox_fetch"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("messages/<id:inbound_id>/", views.message_detail, name="message"),
    path("messages/<id:inbound_id>/raw/", views.message_raw, name="message_raw"),
    path("messages/<id:inbound_id>/reprocess/", views.message_reprocess, name="message_reprocess"),
    path("sent/<id:outbound_id>/", views.outbound_detail, name="outbound"),
    path("sent/<id:outbound_id>/retry/", views.outbound_retry, name="outbound_retry"),
    path("templates/", views.templates, name="templates"),
    path("templates/<str:kind>/<str:language>/", views.template_edit, name="template"),
]
