"""One notice to one team, on each of its channels: the email and the Slack message.

Every notifier (``proposal_emails``, ``impact``, ``asset_emails``, the audit digest) builds its
notice once per team and hands it here; this is the one place that knows the channels. Each
channel dedupes on the notice's key, so a retried notifier sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.models import OutboundEmail, Proposal, SlackMessage, Team
from contracts.services.slack import slack_notice_record
from tessera_site.lib.email import email_send, team_recipients

# Every kind of notice a team can receive, with the label its settings page shows.
NOTICE_KINDS: dict[str, str] = {
    "proposal_opened": "A proposal asks your team",
    "proposal_informed": "A proposal informs your team (no answer needed)",
    "proposal_answered": "A consumer answered your proposal",
    "proposal_resolved": "A proposal was published, expired, withdrawn or superseded",
    "proposal_expiring": "A proposal still missing your answer expires soon",
    "proposal_reminder": "Daily reminder of the answers still missing",
    "deprecation_reminder": "A model version your team reads is being deprecated",
    "audit_failed": "Audits of assets your team uses failed",
    "asset_retired": "Assets your team reads were retired",
}


@dataclass(frozen=True, slots=True)
class Notice:
    """What one team is told: the email's template and context, and the Slack message (built
    only when the team has Slack)."""

    kind: str
    team: Team
    dedupe_key: str
    email_kind: str
    email_context: dict[str, Any]
    slack: Callable[[], dict[str, Any]] | None = None
    proposal: Proposal | None = None


@dataclass(slots=True)
class NoticeSent:
    email: OutboundEmail | None = None
    slack: SlackMessage | None = None


def notice_send(notice: Notice) -> NoticeSent:
    """Email the team and record its Slack message (posted by the outbox)."""
    sent = NoticeSent()
    sent.email = email_send(
        kind=notice.email_kind,
        dedupe_key=notice.dedupe_key,
        to=team_recipients(notice.team),
        context=notice.email_context,
        team=notice.team,
        proposal=notice.proposal,
    )
    if notice.slack is not None:
        sent.slack = slack_notice_record(
            team=notice.team,
            kind=notice.kind,
            dedupe_key=notice.dedupe_key,
            build=notice.slack,
            proposal=notice.proposal,
        )
    return sent
