"""Signed one-click links for emails: one salt per kind of link, a max age, a small payload.

An answer link carries (proposal id, team id, action, the team's answer revision when the email
was made). The signature is the authority: whoever clicks acts for the team. Binding the
revision makes the link single-use: once the team has answered (by any means) the link is spent.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

ANSWER_SALT = "tessera.answer-link.v1"
ANSWER_ACTIONS = ("approved", "migrating", "blocked")


class LinkInvalid(Exception):
    """Tampered with, truncated, or not one of our links."""


class LinkExpired(Exception):
    """Signed by us, but older than TESSERA_ANSWER_LINK_MAX_AGE."""


@dataclass(frozen=True, slots=True)
class AnswerLink:
    proposal_id: int
    team_id: int
    action: str
    revision: int  # the team's acknowledgment revision the link was made for (0 = no answer yet)


def answer_token(*, proposal_id: int, team_id: int, action: str, revision: int = 0) -> str:
    if action not in ANSWER_ACTIONS:
        raise ValueError(f"unknown answer action {action!r}")
    return signing.dumps({"p": proposal_id, "t": team_id, "a": action, "r": revision}, salt=ANSWER_SALT)


def answer_token_load(token: str) -> AnswerLink:
    try:
        data = signing.loads(token, salt=ANSWER_SALT, max_age=settings.TESSERA_ANSWER_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from exc
    except (signing.BadSignature, ValueError, UnicodeError) as exc:
        raise LinkInvalid(str(exc)) from exc
    try:
        link = AnswerLink(
            proposal_id=int(data["p"]), team_id=int(data["t"]), action=str(data["a"]), revision=int(data["r"])
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid("malformed payload") from exc
    if link.action not in ANSWER_ACTIONS:
        raise LinkInvalid("unknown action")
    return link
