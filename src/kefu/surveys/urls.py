from django.urls import path

from kefu.surveys import views

app_name = "surveys"

urlpatterns = [
    path("s/<str:token>/", views.answer, name="answer"),
    path("followups/", views.task_list, name="tasks"),
    path("followups/<id:task_id>/", views.task_detail, name="task"),
    path("report/", views.report, name="report"),
    path("report/export/", views.report_export, name="export"),
    path("cases/", views.loops, name="loops"),
]
