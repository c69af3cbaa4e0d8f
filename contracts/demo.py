"""The demo story, shared by `manage.py tessera_demo` and the tests that reproduce it."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def demo_build_and_sync(*, stdout: Any, root: Path) -> None:
    """Build the demo dbt projects (cached), sync them, report run results, sync core's breaking variant."""
    stdout.write("(dbt builds and syncs are wired in once the sync service exists)")
