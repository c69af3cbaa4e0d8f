"""Shared by the dashboard's reads: open statuses, the audits model, ids typed in URLs."""

from __future__ import annotations

from typing import Any

from contracts.models import (
    Proposal,
)
from tessera_site.lib.validation import ascii_id

OPEN = Proposal.OPEN_STATUSES


def _audit_run_model() -> Any:
    """AuditRun lives in the audits app; imported lazily so contracts does not depend on it at import time."""
    from audits.models import AuditRun

    return AuditRun


def is_id(text: str) -> bool:
    """A primary key typed in a URL: digits that fit a bigint (longer ones would make the database raise)."""
    return ascii_id(text) is not None  # ASCII digits only: "٣" names no row
