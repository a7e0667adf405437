from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users' memberships in local governments and the one place that decides who may see or edit what."""

    name = "gunmane.web.accounts"
    label = "accounts"
    verbose_name = "利用者と所属"
