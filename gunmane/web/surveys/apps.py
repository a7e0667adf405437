from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "gunmane.web.surveys"
    label = "surveys"
    verbose_name = "アンケート調査"
    default_auto_field = "django.db.models.BigAutoField"
