from django.apps import AppConfig


class GuideConfig(AppConfig):
    """The front door: home pages and the public guide (the guide's six questions)."""

    name = "gunmane.web.guide"
    label = "guide"
    verbose_name = "ガイド"
