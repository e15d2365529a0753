from django.urls import path

from kefu.plans import views

app_name = "plans"

urlpatterns = [
    path("", views.plan_list, name="list"),
    path("<id:plan_id>/", views.plan_detail, name="detail"),
    path("sessions/<id:session_id>/attendance/<id:attendance_id>/", views.mark, name="mark"),
    path("rectifications/", views.rectification_list, name="rectifications"),
    path("rectifications/<id:rect_id>/move/", views.move_rectification, name="move"),
    path("ticket/<str:number>/check/<id:result_id>/", views.check, name="check"),
    path("ticket/<str:number>/checklist/", views.attach, name="attach"),
]
