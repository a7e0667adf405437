"""Bump the data version when a single ledger or statistics row is saved or deleted (admin, forms)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from gunmane.web.registry.models import (
    Facility,
    Inspection,
    Measure,
    Municipality,
    MunicipalYearStats,
    bump_data_version,
)


def _bump(sender: Any, **kwargs: Any) -> None:
    bump_data_version()


for model in (Facility, Inspection, Measure, MunicipalYearStats, Municipality):
    post_save.connect(_bump, sender=model, dispatch_uid=f"gunmane-version-save-{model.__name__}")
    post_delete.connect(_bump, sender=model, dispatch_uid=f"gunmane-version-delete-{model.__name__}")
