from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    """見える化・現状把握: indicators, カルテ, peer comparison (views over gunmane.engine.indicators)."""

    name = "gunmane.web.analysis"
    label = "analysis"
    verbose_name = "見える化"
