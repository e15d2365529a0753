from django.urls import path

from kefu.email import views

app_name = "email"

urlpatterns = [
    path("", views.mailboxes, name="mailboxes"),
    path("new/", views.mailbox_new, name="mailbox_new"),
    path("<int:mailbox_id>/", views.mailbox_edit, name="mailbox"),
    path("<int:mailbox_id>/test/", views.mailbox_test, name="mailbox_test"),
    path("<int:mailbox_id>/fetch/", views.mailbox_fetch, name="mailbox_fetch"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("messages/<int:inbound_id>/", views.message_detail, name="message"),
    path("messages/<int:inbound_id>/raw/", views.message_raw, name="message_raw"),
    path("messages/<int:inbound_id>/reprocess/", views.message_reprocess, name="message_reprocess"),
    path("sent/<int:outbound_id>/", views.outbound_detail, name="outbound"),
    path("sent/<int:outbound_id>/retry/", views.outbound_retry, name="outbound_retry"),
    path("templates/", views.templates, name="templates"),
    path("templates/<str:kind>/<str:language>/", views.template_edit, name="template"),
]
