from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """The shared facility ledger (施設台帳) and the reference data it hangs on."""

    name = "gunmane.web.registry"
    label = "registry"
    verbose_name = "施設台帳"

    def ready(self) -> None:
        # Stays here: the receivers connect once the models are loaded, which is what ready() is for.
        from gunmane.web.registry import signals  # noqa: F401 — connects the data-version signals
