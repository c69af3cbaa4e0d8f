"""Answering a proposal: the signed links from emails, and the dashboard's answer buttons.

Email links: GET shows a confirmation page and changes nothing (mail scanners open links); POST
records. The signature is the authority, so no login is needed; a used, expired or tampered link
gets a friendly page with a 4xx. The dashboard form requires login and team membership.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from contracts.models import Acknowledgment, Proposal, Team
from contracts.selectors.supersession import proposal_latest
from contracts.selectors.teams import actor_for_user, teams_for_user
from contracts.services.proposals.answering import acknowledgment_record
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import DomainError
from tessera_site.lib.htmx import HtmxHttpRequest
from tessera_site.lib.http_errors import http_status
from tessera_site.lib.signing import AnswerLink, LinkExpired, LinkInvalid, answer_token_load

ACTION_TITLES = {"approved": "Approve", "migrating": "Need time to migrate", "blocked": "Block"}


def _problem(request: HtmxHttpRequest, *, kind: str, status: int, **context: Any) -> HttpResponse:
    return render(request, "answers/problem.html", {"kind": kind, **context}, status=status)


def _overtaken(request: HtmxHttpRequest, *, proposal: Proposal, team: Team | None) -> HttpResponse:
    """The page of a superseded or withdrawn proposal (410: its answer links are spent)."""
    return _problem(
        request,
        kind=proposal.status,
        status=410,
        proposal=proposal,
        team=team,
        successor=proposal_latest(proposal=proposal),
    )


def _link_actor(request: HtmxHttpRequest, team: Team) -> Actor:
    user = request.user if request.user.is_authenticated else None
    label = f"email-link:{team.slug}" + (f" (user:{user.get_username()})" if user else "")
    return Actor(label=label, team=team, scopes=("write",), user=user, teams=(team,))


@require_http_methods(["GET", "POST"])
def answer_link(request: HtmxHttpRequest, token: str) -> HttpResponse:
    try:
        link: AnswerLink = answer_token_load(token)
    except LinkExpired:
        return _problem(request, kind="expired", status=410)
    except LinkInvalid:
        return _problem(request, kind="invalid", status=400)
    proposal = (
        Proposal.objects.select_related("asset", "asset__owner_team", "base_version", "proposed_version")
        .filter(pk=link.proposal_id)
        .first()
    )
    team = Team.objects.filter(pk=link.team_id).first()
    if proposal is None or team is None:
        return _problem(request, kind="gone", status=410)
    ack = Acknowledgment.objects.filter(proposal=proposal, team=team).first()
    context: dict[str, Any] = {"proposal": proposal, "team": team, "action": link.action, "ack": ack}
    if proposal.is_overtaken:
        # The question changed or was taken back: say so, and point at the question that stands now.
        return _overtaken(request, proposal=proposal, team=team)
    if (ack.revision if ack else 0) != link.revision:
        # Bound to the answer state it was sent with: once the team has answered, the link is spent.
        return _problem(request, kind="used", status=410, **context)
    if not proposal.is_open:
        return _problem(request, kind="closed", status=410, **context)

    context.update(
        title=ACTION_TITLES[link.action],
        reasons=(proposal.verdict or {}).get("reasons") or [],
        ready_by=request.POST.get("ready_by", ""),
        reason=request.POST.get("reason", ""),
    )
    if request.method == "GET":
        return render(request, "answers/confirm.html", context)
    try:
        ack = acknowledgment_record(
            proposal=proposal,
            team=team,
            answer=link.action,
            ready_by=request.POST.get("ready_by") or None,
            reason=request.POST.get("reason", ""),
            actor=_link_actor(request, team),
            via=Acknowledgment.Via.EMAIL,
        )
    except DomainError as exc:
        status = http_status(exc)
        if status == 400:
            return render(request, "answers/confirm.html", {**context, "error": exc.detail})
        return _problem(request, kind="refused", status=status, detail=exc.detail, **context)
    proposal.refresh_from_db()
    return render(request, "answers/done.html", {**context, "ack": ack, "proposal": proposal})


# --- the dashboard's answer buttons (templates/proposals/_answer_form.html) -------------------------------
def answer_form_context(
    *, proposal: Proposal, team: Team, error: str = "", saved: Acknowledgment | None = None
) -> dict[str, Any]:
    """Context of the answer partial for one (proposal, team)."""
    ack = saved or Acknowledgment.objects.filter(proposal=proposal, team=team).first()
    return {
        "proposal": proposal,
        "team": team,
        "acknowledgment": ack,
        "answer": ack,
        "answer_error": error,
        "answer_saved": saved,
    }


def _render_answer_partial(
    request: HtmxHttpRequest, proposal: Proposal, team: Team, status: int = 200, **kw: Any
) -> HttpResponse:
    response = render(
        request,
        "proposals/_answer_form.html",
        answer_form_context(proposal=proposal, team=team, **kw),
        status=status,
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def proposal_answer(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Record the signed-in member's answer for one of their teams; the partial for htmx, else a redirect."""
    proposal = get_object_or_404(Proposal.objects.select_related("asset", "asset__owner_team"), pk=pk)
    involved = [proposal.asset.owner_team_id, *proposal.required_teams.values_list("id", flat=True)]
    if (
        not request.user.is_superuser
        and not teams_for_user(user=request.user).filter(id__in=involved).exists()
    ):
        # A stranger to this proposal learns nothing about it (a member of another involved team
        # answering for a team not theirs gets the service's 403 below).
        raise Http404("No proposal here for you")
    team = Team.objects.filter(slug=request.POST.get("team", "")).first()
    htmx = bool(getattr(request, "htmx", False))
    if proposal.is_overtaken:
        if htmx:  # a page loaded before the warehouse moved on: show the proposal as it is now
            return HttpResponseClientRedirect(proposal.get_absolute_url())
        return _overtaken(request, proposal=proposal, team=team)
    if team is None:
        if htmx:
            return HttpResponse("Choose the team you answer for.", status=400)
        messages.error(request, "Choose the team you answer for.")
        return redirect(proposal.get_absolute_url())
    try:
        ack = acknowledgment_record(
            proposal=proposal,
            team=team,
            answer=request.POST.get("answer", ""),
            ready_by=request.POST.get("ready_by") or None,
            reason=request.POST.get("reason", ""),
            actor=actor_for_user(request.user),
            via=Acknowledgment.Via.DASHBOARD,
        )
    except DomainError as exc:
        status = http_status(exc)
        if htmx:
            # A form the user can fix re-renders with 200; a refusal keeps its status.
            return _render_answer_partial(
                request, proposal, team, status=200 if status == 400 else status, error=exc.detail
            )
        if status == 403:
            return _problem(
                request, kind="refused", status=403, detail=exc.detail, proposal=proposal, team=team
            )
        messages.error(request, exc.detail)
        return redirect(proposal.get_absolute_url())
    proposal.refresh_from_db()
    if htmx:
        return _render_answer_partial(request, proposal, team, saved=ack)
    messages.success(request, f"Recorded: {team.slug} {ack.get_answer_display()}.")
    return redirect(proposal.get_absolute_url())
