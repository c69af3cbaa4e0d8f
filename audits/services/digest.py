"""The daily digest of failed audits: one notice per consumer team (email and Slack) listing the
failed audits of the assets it uses in the last 24 hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from audits.selectors import failed_audits_by_consumer_team
from contracts.models import OutboundEmail
from contracts.presenters import slack as slack_blocks
from contracts.services.notices import Notice, notice_send
from tessera_site.lib.urls import absolute_url


def audit_failure_digest_send(*, moment: datetime) -> int:
    """One digest per team and day (the dedupe key): a second run the same day sends nothing.
    Returns the number of digest emails sent."""
    since = moment - timedelta(hours=24)
    sent = 0
    for team, runs in failed_audits_by_consumer_team(since=since, until=moment):
        dedupe_key = f"audit-failure-digest:{team.pk}:{moment.date().isoformat()}"
        if OutboundEmail.objects.filter(dedupe_key=dedupe_key, status=OutboundEmail.Status.SENT).exists():
            continue  # today's digest went out already: failures after it wait for tomorrow's
        for run in runs:
            run["url"] = absolute_url("asset_detail", run["asset_id"])
        result = notice_send(
            Notice(
                kind="audit_failed",
                team=team,
                dedupe_key=dedupe_key,
                email_kind="audit_failure_digest",
                email_context={"team": team, "runs": runs, "since": since},
                slack=partial(
                    slack_blocks.audit_failures_message,
                    team=team,
                    runs=runs,
                    since=since,
                    team_url=absolute_url(team.get_absolute_url()),
                ),
            )
        )
        sent += int(result.email is not None and result.email.status == OutboundEmail.Status.SENT)
    return sent
