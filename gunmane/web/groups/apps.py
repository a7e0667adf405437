from django.apps import AppConfig


class GroupsConfig(AppConfig):
    """群: groups of municipalities (and a prefecture) that manage their infrastructure together."""

    name = "gunmane.web.groups"
    label = "groups"
    verbose_name = "群"
