from django.urls import path  # noqa: F401

app_name = "groups"
urlpatterns: list = []  # type: ignore[type-arg]
