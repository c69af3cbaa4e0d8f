"""Before a proposal expires: the teams whose approval is still missing are warned once, by every
channel they chose (email, Slack, webhook), ``TESSERA_PROPOSAL_EXPIRING_HOURS`` before the deadline.

Beat runs ``proposal_expiring_warn`` hourly. Each proposal due is warned in its own transaction:
a ``proposal.expiring`` event (the audit log, and the webhooks) and the notice in the outbox, so
the warning exists exactly once, whoever runs the task and however often.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contracts.models import Acknowledgment, OutboundEmail, Proposal, Team
from contracts.presenters import slack as slack_blocks
from contracts.services.events import asset_event_record
from contracts.services.notices import Notice, notices_send_each
from contracts.services.outbox import outbox_record
from contracts.services.proposal_emails import answer_links, proposal_context

WARNED = "proposal.expiring"


def _without_approval(proposal: Proposal) -> list[Team]:
    approved = Acknowledgment.objects.filter(proposal=proposal, answer=Acknowledgment.Answer.APPROVED)
    return list(proposal.required_teams.exclude(pk__in=approved.values("team_id")).order_by("slug"))


def proposal_expiring_warn(*, now: dt.datetime | None = None) -> list[int]:
    """Warn about every open proposal whose deadline falls within the window and that was not
    warned yet; returns their ids."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(hours=settings.TESSERA_PROPOSAL_EXPIRING_HOURS)
    due = (
        Proposal.objects.filter(
            status__in=(Proposal.Status.OPEN, Proposal.Status.BLOCKED),
            deadline__gt=now,
            deadline__lte=horizon,
        )
        .exclude(events__kind=WARNED)
        .order_by("deadline", "id")
        .values_list("pk", flat=True)
    )
    return [pk for pk in list(due) if _warn_one(proposal_id=pk)]


@transaction.atomic
def _warn_one(*, proposal_id: int) -> bool:
    proposal = (
        Proposal.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("asset", "asset__owner_team")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None or proposal.events.filter(kind=WARNED).exists():
        return False  # another run holds it, or warned it already
    missing = _without_approval(proposal)
    asset_event_record(
        kind=WARNED,
        asset=proposal.asset,
        proposal=proposal,
        payload={"deadline": proposal.deadline.isoformat(), "without_approval_of": [t.slug for t in missing]},
    )
    if missing:
        outbox_record(kind="email.proposal_expiring", proposal_id=proposal.pk)
    return True


def proposal_expiring_notify(*, proposal_id: int) -> list[OutboundEmail]:
    """The outbox handler: to each required team still without an approval, with its buttons."""
    context = proposal_context(proposal_id)
    proposal = context["proposal"]
    if not proposal.is_open:
        return []

    def notice(team: Team) -> Notice:
        team_context = {**context, "team": team, "links": answer_links(proposal=proposal, team=team)}
        return Notice(
            kind="proposal_expiring",
            team=team,
            dedupe_key=f"expiring:{proposal.pk}:team:{team.pk}",
            email_kind="proposal_expiring",
            email_context=team_context,
            slack=partial(slack_blocks.proposal_expiring_message, team_context),
            proposal=proposal,
        )

    return notices_send_each(notice(team) for team in _without_approval(proposal))
