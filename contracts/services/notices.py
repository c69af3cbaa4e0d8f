"""One notice to one team, on each of its channels: the email and the Slack message.

Every notifier (``proposal_emails``, ``impact``, ``asset_emails``, the audit digest) builds its
notice once per team and hands it here; this is the one place that knows the channels, and it
asks the team's switches (``contracts.selectors.notifications``) before each. Each channel
dedupes on the notice's key, so a retried notifier sends nothing twice. (The third channel,
webhooks, carries the events of the change; its switches apply in ``services.webhooks``.)

A notifier that tells several teams hands them to ``notices_send_each``: each team's notice in its
own savepoint, so a failure for team B neither stops team C nor undoes the record that team A's
email went out (the outbox would otherwise roll the whole handler back and email A again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from contracts.models import OutboundEmail, Proposal, SlackMessage, Team
from contracts.selectors.notifications import NOTICE_KINDS, notice_switches
from contracts.services.slack import slack_notice_record
from tessera_site.lib.email import EmailSendError, email_send, team_recipients


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


class NoticesFailed(EmailSendError):
    """Some of the notices failed; the others are done and stay recorded (each ran in its own
    savepoint). The outbox keeps what was done and retries the message; a retry sends only what
    is not recorded as sent. An ``EmailSendError``, so the email tasks' autoretry retries it too."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def notices_send_each(notices: Iterable[Notice]) -> list[OutboundEmail]:
    """Send every notice, each in its own savepoint; the emails recorded. Raises ``NoticesFailed``
    after all were tried if any failed."""
    emails: list[OutboundEmail] = []
    errors: list[str] = []
    for notice in notices:
        try:
            with transaction.atomic():
                try:
                    sent = notice_send(notice)
                except EmailSendError as exc:
                    # Raised after the email's row was saved as failed: that record stays.
                    errors.append(f"team {notice.team.slug}: {exc}")
                    continue
        except Exception as exc:  # anything else undoes this team's notice only
            errors.append(f"team {notice.team.slug}: {exc.__class__.__name__}: {exc}")
            continue
        if sent.email is not None:
            emails.append(sent.email)
    if errors:
        raise NoticesFailed(errors)
    return emails
