from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """The shared facility ledger (施設台帳) and the reference data it hangs on."""

    name = "gunmane.web.registry"
    label = "registry"
    verbose_name = "施設台帳"

    def ready(self) -> None:
        from gunmane.web.registry import signals  # noqa: F401 — connects the data-version signals
