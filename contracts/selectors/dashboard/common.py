"""Shared by the dashboard's reads: open statuses, the audits model, ids typed in URLs."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings

from contracts.models import (
    Proposal,
)
from tessera_site.lib.validation import ascii_id

OPEN = Proposal.OPEN_STATUSES


def _audit_run_model() -> Any:
    """The audit run model, named by ``settings.TESSERA_AUDIT_RUN_MODEL`` (as Django names its user
    model): it lives in the audits app, which sits above contracts, so contracts never imports it.
    A missing setting or app raises at the first read instead of drawing pages without audits."""
    return apps.get_model(settings.TESSERA_AUDIT_RUN_MODEL)


def is_id(text: str) -> bool:
    """A primary key typed in a URL: digits that fit a bigint (longer ones would make the database raise)."""
    return ascii_id(text) is not None  # ASCII digits only: "٣" names no row
