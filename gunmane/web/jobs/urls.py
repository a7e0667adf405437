from django.urls import path

from gunmane.web.jobs import views

app_name = "jobs"
urlpatterns = [
    path("jobs/<uuid:pk>/", views.status, name="status"),
]
