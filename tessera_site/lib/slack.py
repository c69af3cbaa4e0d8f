"""Slack-compatible incoming webhooks: the URL rules, masking, Block Kit pieces and the POST.

Block Kit limits (https://api.slack.com/reference/block-kit): at most 50 blocks a message; a
section's text at most 3000 characters, a header's 150 (plain text), a button's text 75 and its
url 3000; a context at most 10 elements. In ``mrkdwn`` only ``&``, ``<`` and ``>`` are escaped
(as HTML entities); Slack decodes nothing else. The pieces below truncate to those limits, so a
message built from them is valid whatever names and reasons it carries.
"""

from __future__ import annotations

import ipaddress
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.core.exceptions import ValidationError

MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_URL_MAX = 3000
CONTEXT_ELEMENTS_MAX = 10
FALLBACK_TEXT_MAX = 3000
POST_TIMEOUT_SECONDS = 10
USER_AGENT = "Tessera-Slack/1"
RETRY_AFTER_MAX_SECONDS = 3600
# 4xx answers that may succeed later (timeout, rate limit); any other 4xx is the receiver's final
# word (Slack's 404 no_service for a deleted webhook, 410 channel_is_archived, 403 invalid_token,
# 400 invalid_payload): posting the same message again would be refused the same way.
TRANSIENT_4XX = frozenset({408, 429})

Block = dict[str, Any]


# --- the URL ------------------------------------------------------------------------------------
def slack_url_validate(url: str) -> None:
    """An https URL to a public host: a team's key may set it, so it must not reach into the
    network Tessera runs in (loopback, private, link-local addresses, credentials in the URL)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError as exc:
        raise ValidationError("Not a valid URL") from exc
    if parts.scheme != "https":
        raise ValidationError("The webhook URL must start with https://")
    if not host or "." not in host and ":" not in host:
        raise ValidationError("The webhook URL needs a public host name")
    if parts.username or parts.password:
        raise ValidationError("The webhook URL must not carry a user name or password")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise ValidationError("The webhook URL must point to a public host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not address.is_global:
        raise ValidationError("The webhook URL must point to a public address")


def slack_url_mask(url: str) -> str:
    """``https://hooks.slack.com/…Xq9z``: enough to recognise a URL, not to post with it."""
    if not url:
        return ""
    parts = urlsplit(url)
    tail = url.rstrip("/")[-4:]
    return f"{parts.scheme}://{parts.hostname or ''}/…{tail}"


# --- Block Kit pieces ---------------------------------------------------------------------------
def mrkdwn_escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cut_mrkdwn(text: str, limit: int) -> str:
    """Cut escaped mrkdwn without splitting an entity or a ``<url|label>`` link in two."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    for opener, closer in (("&", ";"), ("<", ">")):
        start = cut.rfind(opener)
        if start != -1 and closer not in cut[start:]:
            cut = cut[:start]
    return cut + "…"


def link(url: str, label: str) -> str:
    """A mrkdwn link; the label is escaped, and ``|`` would end the URL."""
    return f"<{mrkdwn_escape(url).replace('|', '%7C')}|{mrkdwn_escape(label).replace('|', '¦')}>"


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _cut(text, HEADER_TEXT_MAX), "emoji": True},
    }


def section(mrkdwn: str) -> Block:
    """A section of mrkdwn that is already escaped (use ``mrkdwn_escape`` on every value in it)."""
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _cut_mrkdwn(mrkdwn, SECTION_TEXT_MAX) or " "},
    }


def context(*mrkdwn: str) -> Block:
    elements = [{"type": "mrkdwn", "text": _cut_mrkdwn(m, SECTION_TEXT_MAX)} for m in mrkdwn if m]
    return {
        "type": "context",
        "elements": elements[:CONTEXT_ELEMENTS_MAX] or [{"type": "mrkdwn", "text": " "}],
    }


def divider() -> Block:
    return {"type": "divider"}


def button(*, text: str, url: str, action_id: str, style: str = "", label: str = "") -> dict[str, Any]:
    """A link button (Slack opens ``url``); ``label`` is what a screen reader says."""
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": _cut(text, BUTTON_TEXT_MAX), "emoji": True},
        "url": url[:BUTTON_URL_MAX],
        "action_id": action_id[:255],
    }
    if style in ("primary", "danger"):
        element["style"] = style
    if label:
        element["accessibility_label"] = _cut(label, BUTTON_TEXT_MAX)
    return element


def actions(*elements: dict[str, Any], block_id: str = "") -> Block:
    block: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def message(*, text: str, blocks: list[Block]) -> dict[str, Any]:
    """The webhook's JSON body; ``text`` (plain, escaped here: Slack reads it as mrkdwn) is the
    notification's fallback (previews, screen readers)."""
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks: a Slack message holds at most {MAX_BLOCKS}")
    return {"text": _cut_mrkdwn(mrkdwn_escape(text), FALLBACK_TEXT_MAX), "blocks": blocks}


# --- posting -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SlackPosted:
    """A post the receiver accepted (the outbox records its status code on the attempt)."""

    status_code: int


class SlackPostFailed(Exception):
    """The receiver refused or could not be reached; the outbox records it and retries, unless
    ``permanent`` (a final refusal: the outbox fails the message at once), waiting at least
    ``retry_after`` seconds when the receiver said so (429 ``Retry-After``)."""

    def __init__(
        self,
        detail: str,
        *,
        status_code: int | None = None,
        permanent: bool = False,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.permanent = permanent
        self.retry_after = retry_after


def is_permanent_refusal(status_code: int | None) -> bool:
    return status_code is not None and 400 <= status_code < 500 and status_code not in TRANSIENT_4XX


def retry_after_seconds(value: str | None, *, now: float | None = None) -> int | None:
    """``Retry-After`` (delay-seconds or an HTTP date) as seconds from now, capped; None when absent
    or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(int(value), RETRY_AFTER_MAX_SECONDS)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0, min(int(when - (time.time() if now is None else now)), RETRY_AFTER_MAX_SECONDS))


# What a team can do about Slack's final refusals (its error codes for incoming webhooks).
_RECONNECT = "reconnect the webhook"
REFUSAL_HINTS = {
    "no_service": _RECONNECT,
    "no_team": _RECONNECT,
    "team_disabled": _RECONNECT,
    "invalid_token": _RECONNECT,
    "no_active_hooks": _RECONNECT,
    "channel_not_found": _RECONNECT,
    "channel_is_archived": "unarchive the channel or reconnect the webhook",
    "action_prohibited": "a Slack admin restricted posting to this channel",
    "posting_to_general_channel_denied": "a Slack admin restricted posting to this channel",
}


def slack_refusal(*, status_code: int | None, error: str) -> str:
    """``Slack refused: no_service — reconnect the webhook`` for an attempt the receiver refused for
    good (its recorded ``error`` holds ``HTTP <code> <answer>``); "" for any other attempt."""
    if not is_permanent_refusal(status_code):
        return ""
    answer = error.partition(f"HTTP {status_code} ")[2].strip()[:80] or f"HTTP {status_code}"
    hint = REFUSAL_HINTS.get(answer, "check the webhook, or reconnect it")
    return f"Slack refused: {answer} — {hint}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: it could lead a team's URL to a host the validation refused."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def slack_post(*, url: str, payload: dict[str, Any]) -> SlackPosted:
    """POST one message; raises SlackPostFailed unless the receiver answers 2xx."""
    body = orjson.dumps(payload)
    request = urllib.request.Request(  # noqa: S310 (https only, validated when the team set it)
        url, data=body, headers={"Content-Type": "application/json", "User-Agent": USER_AGENT}, method="POST"
    )
    try:
        with _opener.open(request, timeout=POST_TIMEOUT_SECONDS) as response:
            return SlackPosted(status_code=response.status)
    except urllib.error.HTTPError as exc:
        answer = exc.read(300).decode("utf-8", "replace").strip()
        raise SlackPostFailed(
            f"HTTP {exc.code} {answer or exc.reason}",
            status_code=exc.code,
            permanent=is_permanent_refusal(exc.code),
            retry_after=retry_after_seconds(exc.headers.get("Retry-After")) if exc.code == 429 else None,
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SlackPostFailed(f"{exc.__class__.__name__}: {exc}") from None
