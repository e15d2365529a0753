from django.urls import path

from kefu.plans import views

app_name = "plans"

urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_edit, name="new"),
    path("<id:plan_id>/", views.plan_detail, name="detail"),
    path("<id:plan_id>/edit/", views.plan_edit, name="edit"),
    path("checklists/", views.checklist_list, name="checklists"),
    path("checklists/new/", views.checklist_edit, name="checklist_new"),
    path("checklists/<id:template_id>/", views.checklist_edit, name="checklist"),
    path("sessions/<id:session_id>/attendance/<id:attendance_id>/", views.mark, name="mark"),
    path("rectifications/", views.rectification_list, name="rectifications"),
    path("rectifications/<id:rect_id>/move/", views.move_rectification, name="move"),
    path("ticket/<str:number>/check/<id:result_id>/", views.check, name="check"),
    path("ticket/<str:number>/checklist/", views.attach, name="attach"),
]
