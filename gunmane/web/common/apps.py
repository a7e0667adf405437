from django.apps import AppConfig


class CommonConfig(AppConfig):
    """No models: installed so that Django finds the template tag library in templatetags/."""

    name = "gunmane.web.common"
    label = "common"
    verbose_name = "共通"
