from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Jobs on the task queue: their progress and their stored files (docs/tasks.md)."""

    name = "gunmane.web.jobs"
    label = "jobs"
    verbose_name = "時間のかかる処理"
    default_auto_field = "django.db.models.BigAutoField"
