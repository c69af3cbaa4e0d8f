"""Login throttling (django-axes): wrong passwords per username and IP, then a cool-off.

Time is frozen and moved with time-machine, so the window never depends on the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RIGHT = "correct horse battery staple"


@pytest.fixture
def alice(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_user("alice", "alice@example.com", RIGHT)


def _login(client, password: str, username: str = "alice"):
    return client.post(reverse("login"), {"username": username, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_eleventh_attempt_is_refused_even_with_the_right_password(client, alice, settings):
    assert settings.AXES_FAILURE_LIMIT == 10  # the documented default
    with time_machine.travel(START, tick=False):
        for _ in range(9):
            assert _login(client, "wrong").status_code == 200  # the form again, with its error
        tenth = _login(client, "wrong")
        assert tenth.status_code == 429
        eleventh = _login(client, RIGHT)

    assert eleventh.status_code == 429
    assert not _signed_in(client)
    page = eleventh.content.decode()
    assert "Too many failed logins" in page and "15 minutes" in page and "alice" in page


def test_after_the_cool_off_the_right_password_logs_in(client, alice):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(10):
            _login(client, "wrong")
        assert _login(client, RIGHT).status_code == 429
        assert not _signed_in(client)
        traveller.shift(timedelta(minutes=14))
        assert _login(client, RIGHT).status_code == 429  # still inside the window
        traveller.shift(timedelta(minutes=16))  # a wrong try at minute 14 restarted the cool-off
        response = _login(client, RIGHT)
        signed_in = _signed_in(client)  # read inside the frozen time: the session expires in 2 weeks

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert signed_in


def test_failures_count_per_username_and_ip(client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 3  # configurable (TESSERA_LOGIN_FAILURE_LIMIT)
    get_user_model().objects.create_user("bob", "bob@example.com", RIGHT)
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            _login(client, "wrong")
        assert _login(client, RIGHT).status_code == 429
        # Another user from the same address is not locked out by alice's failures.
        assert _login(client, RIGHT, username="bob").status_code == 302
        # Nor is alice from another address.
        other = client.post(
            reverse("login"), {"username": "alice", "password": RIGHT}, REMOTE_ADDR="10.0.0.7"
        )
    assert other.status_code == 302


def test_failures_older_than_the_window_do_not_add_up(client, alice):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(9):
            _login(client, "wrong")
        traveller.shift(timedelta(minutes=20))
        for _ in range(9):
            _login(client, "wrong")
        response = _login(client, RIGHT)

    assert response.status_code == 302
