from django.urls import path  # noqa: F401 - the app's screens are added here

app_name = "incidents"

urlpatterns: list = []
