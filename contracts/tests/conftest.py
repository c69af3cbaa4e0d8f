"""Fixtures the contracts tests share: the workflow story and an in-memory mail outbox."""

from __future__ import annotations

import pytest

from contracts.tests.workflow_setup import Story, make_story


@pytest.fixture
def story() -> Story:
    return make_story()


@pytest.fixture
def locmem_email(settings) -> None:
    """Emails land in ``django.core.mail.outbox``, whatever EMAIL_URL the environment sets."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
