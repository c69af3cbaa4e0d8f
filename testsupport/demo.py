"""The demo's dbt artifacts as a session fixture (built once, cached on disk by contracts.demo_builds)."""

from __future__ import annotations

import pytest

from contracts.demo_builds import DemoArtifacts, ensure_demo_artifacts


@pytest.fixture(scope="session")
def demo_artifacts() -> DemoArtifacts:
    """The demo projects' artifacts (see `DemoArtifacts`), built once and cached on disk."""
    return ensure_demo_artifacts()
