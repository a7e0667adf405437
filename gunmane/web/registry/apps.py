from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """The shared facility ledger (施設台帳) and the reference data it hangs on."""

    name = "gunmane.web.registry"
    label = "registry"
    verbose_name = "施設台帳"
