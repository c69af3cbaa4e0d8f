"""One notice to one team, on each of its channels: the email and the Slack message.

Every notifier (``proposal_emails``, ``impact``, ``asset_emails``, the audit digest) builds its
notice once per team and hands it here; this is the one place that knows the channels, and it
asks the team's switches (``contracts.selectors.notifications``) before each. Each channel
dedupes on the notice's key, so a retried notifier sends nothing twice. (The third channel,
webhooks, carries the events of the change; its switches apply in ``services.webhooks``.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.models import OutboundEmail, Proposal, SlackMessage, Team
from contracts.selectors.notifications import NOTICE_KINDS, notice_switches
from contracts.services.slack import slack_notice_record
from tessera_site.lib.email import email_send, team_recipients


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
    """Email the team and record its Slack message (posted by the outbox), each unless the team
    switched that channel off for this kind of notice."""
    if notice.kind not in NOTICE_KINDS:
        raise ValueError(f"Unknown kind of notice {notice.kind!r}")
    switches = notice_switches(team_ids=[notice.team.pk])
    sent = NoticeSent()
    if switches.enabled(notice.team.pk, notice.kind, "email"):
        sent.email = email_send(
            kind=notice.email_kind,
            dedupe_key=notice.dedupe_key,
            to=team_recipients(notice.team),
            context=notice.email_context,
            team=notice.team,
            proposal=notice.proposal,
        )
    if notice.slack is not None and switches.enabled(notice.team.pk, notice.kind, "slack"):
        sent.slack = slack_notice_record(
            team=notice.team,
            kind=notice.kind,
            dedupe_key=notice.dedupe_key,
            build=notice.slack,
            proposal=notice.proposal,
        )
    return sent
