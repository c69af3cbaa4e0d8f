"""Producer actions on a proposal: withdraw it, or force it through.

Each action looks its proposal up together with the team check (a stranger gets 404), binds the
form, calls one service, and then redirects — or, for htmx, renders the partial that replaces the
form. Invalid input re-renders the form with its error (400 without htmx; 200 with htmx, which
swaps only successful responses).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from contracts.models import Proposal
from contracts.selectors import dashboard as sel
from contracts.selectors.teams import actor_for_user
from contracts.services.proposals import closing, publishing  # modules: the views bear the services' names
from contracts.views.access import proposal_for_producer_or_404
from contracts.views.browse import proposal_context, render_page
from tessera_site.lib.errors import DomainError
from tessera_site.lib.htmx import HtmxHttpRequest
from tessera_site.lib.http_errors import http_status


# --- producer actions ---------------------------------------------------------------------------------
class WithdrawForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000)


class ForceForm(forms.Form):
    reason = forms.CharField(
        max_length=2000, error_messages={"required": "Say why you force it: consumers read this."}
    )


def _producer_response(
    request: HtmxHttpRequest, proposal: Proposal, *, error: str = "", form_name: str = "", status: int = 400
) -> HttpResponse:
    proposal = sel.proposals_with_answers(Proposal.objects.all()).get(
        pk=proposal.pk
    )  # the state after the action
    context = proposal_context(request, proposal, action_error=error, action_form=form_name)
    if request.htmx:
        return render_page(request, "contracts/proposal_detail.html", context, partial="producer")
    if error:
        return render_page(request, "contracts/proposal_detail.html", context, status=status)
    return redirect(proposal)


@login_required
@require_POST
def proposal_withdraw(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    proposal = proposal_for_producer_or_404(request, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _producer_response(
            request, proposal, error=" ".join(form.errors.get("reason", [])), form_name="withdraw"
        )
    try:
        closing.proposal_withdraw(
            proposal=proposal, actor=actor_for_user(request.user), reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        return _producer_response(
            request, proposal, error=exc.detail, form_name="withdraw", status=http_status(exc)
        )
    messages.success(request, f"Proposal #{proposal.pk} withdrawn; the consumers are told.")
    return _producer_response(request, proposal)


@login_required
@require_POST
def proposal_force(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    proposal = proposal_for_producer_or_404(request, pk)
    form = ForceForm(request.POST)
    if not form.is_valid():
        return _producer_response(request, proposal, error=" ".join(form.errors["reason"]), form_name="force")
    try:
        publishing.proposal_force(
            proposal=proposal, actor=actor_for_user(request.user), reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        return _producer_response(
            request, proposal, error=exc.detail, form_name="force", status=http_status(exc)
        )
    messages.success(request, f"Proposal #{proposal.pk} force-published; the consumers are told.")
    return _producer_response(request, proposal)
