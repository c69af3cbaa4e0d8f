"""Choices shared by several models."""

from __future__ import annotations

from contracts.domain import COMPATIBILITY_MODES

MODE_CHOICES = [(m, m.replace("_", " ")) for m in COMPATIBILITY_MODES]
