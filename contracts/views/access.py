"""Access helpers: look an object up together with the user's team check; a stranger gets 404,
not a hint that the object exists."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from contracts.models import Proposal, Team
from contracts.selectors import dashboard as sel


def proposal_for_producer_or_404(request: HttpRequest, pk: int) -> Proposal:
    """The proposal, if the user is in its asset's owner team (or a superuser); 404 otherwise."""
    proposal = get_object_or_404(sel.proposals_with_answers(Proposal.objects.all()), pk=pk)
    if not request.user.is_superuser and proposal.asset.owner_team_id not in sel.user_team_ids(
        user=request.user
    ):
        raise Http404("No such proposal")
    return proposal


def team_for_member_or_404(request: HttpRequest, slug: str) -> Team:
    team = get_object_or_404(Team, slug=slug)
    if not request.user.is_superuser and team.pk not in sel.user_team_ids(user=request.user):
        raise Http404("No such team")
    return team
