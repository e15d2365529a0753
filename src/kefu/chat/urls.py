from django.urls import path

from kefu.chat import views

app_name = "chat"

urlpatterns = [
    path("widget.js", views.widget_js, name="widget_js"),
    path("demo/", views.demo, name="demo"),
    path("w/<str:key>/", views.frame, name="frame"),
    path("w/<str:key>/status/", views.status, name="status"),
    path("w/<str:key>/start/", views.start, name="start"),
    path("w/<str:key>/offline/", views.offline, name="offline"),
    path("g/upload/", views.guest_upload, name="guest_upload"),
    path("g/end/", views.guest_end, name="guest_end"),
    path("g/rate/", views.guest_rate, name="guest_rate"),
    path("g/file/<id:message_id>/", views.guest_file, name="guest_file"),
    path("", views.console, name="console"),
    path("canned/", views.canned, name="canned"),
    path("kb/", views.kb_search, name="kb"),
    path("file/<id:message_id>/", views.staff_file, name="file"),
    path("<id:pk>/", views.panel, name="panel"),
    path("<id:pk>/transcript/", views.transcript, name="transcript"),
    path("<id:pk>/accept/", views.accept, name="accept"),
    path("<id:pk>/transfer/", views.transfer, name="transfer"),
    path("<id:pk>/end/", views.end, name="end"),
    path("<id:pk>/ticket/", views.make_ticket, name="ticket"),
    path("<id:pk>/link/", views.link, name="link"),
    path("<id:pk>/customer/", views.confirm_customer, name="confirm_customer"),
    path("<id:pk>/upload/", views.upload, name="upload"),
]
