"""The upload page: a manifest (starts a sync); the result file form on it belongs to the audits
app (``audits.views``).

Each upload checks the team it is for (a stranger gets 404), binds the form, calls one service,
and then redirects — or, for htmx, renders the partial that replaces the form. Invalid input
re-renders the form with its error (400 without htmx; 200 with htmx, which swaps only successful
responses).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods
from django_htmx.http import reswap, retarget

from contracts.models import Team
from contracts.selectors import dashboard as sel
from contracts.selectors.teams import actor_for_user
from contracts.views.access import team_for_member_or_404
from contracts.views.browse import render_page, sync_context
from tessera_site.lib.errors import DomainError
from tessera_site.lib.htmx import HtmxHttpRequest
from tessera_site.lib.uploads import upload_refusal


# --- uploads ----------------------------------------------------------------------------------------------
class ManifestUploadForm(forms.Form):
    team = forms.CharField(required=False)
    manifest = forms.FileField(error_messages={"required": "Choose the manifest.json of your dbt project."})
    run_results = forms.FileField(required=False)
    catalog = forms.FileField(required=False)


def _upload_context(request: HtmxHttpRequest, **extra: Any) -> dict[str, Any]:
    team_ids = sel.user_team_ids(user=request.user)
    teams = (
        Team.objects.filter(pk__in=team_ids).order_by("slug")
        if not request.user.is_superuser
        else Team.objects.all()
    )
    return {
        "teams": list(teams),
        "manifest_form": extra.pop("manifest_form", ManifestUploadForm()),
        # The audits app's form (drawn by its template tag); set when its post had errors.
        "results_form": extra.pop("results_form", None),
        "recent": sel.recent_syncs(team_ids=team_ids, user=request.user),
        **extra,
    }


def _team_choice(request: HtmxHttpRequest, slug: str) -> Team | None:
    """The team an upload is for: one of the user's teams (404 for any other), or none when the user has none."""
    if slug:
        return team_for_member_or_404(request, slug)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render_page(request, "contracts/upload.html", _upload_context(request))
    from contracts.services.sync import sync_submit

    form = ManifestUploadForm(request.POST, request.FILES)
    valid = form.is_valid()
    refusal = upload_refusal(request)  # a file past the size limit was dropped while it streamed
    if refusal is not None:
        form.errors["manifest"] = form.error_class([refusal.detail])
    if refusal is not None or not valid:
        return upload_error_response(request, manifest_form=form)
    team = _team_choice(request, form.cleaned_data["team"])
    if team is None and not request.user.is_superuser:
        raise Http404("Choose one of your teams")
    try:
        sync_run = sync_submit(
            manifest=form.cleaned_data["manifest"],
            run_results=form.cleaned_data.get("run_results"),
            catalog=form.cleaned_data.get("catalog"),
            team_slug=team.slug if team else None,
            actor=actor_for_user(request.user),
        )
    except DomainError as exc:
        form.add_error("manifest", exc.detail)
        return upload_error_response(request, manifest_form=form)
    if request.htmx:
        return render_page(request, "contracts/sync_detail.html", sync_context(sync_run), partial="progress")
    return redirect(sync_run)


def upload_error_response(request: HtmxHttpRequest, **forms_: Any) -> HttpResponse:
    """The upload page again with a form's errors (the manifest form here, the results form from
    the audits app's view)."""
    context = _upload_context(request, **forms_)
    if request.htmx:
        response = render_page(request, "contracts/upload.html", context, partial="forms")
        # The forms were posted to fill the job area; on an error they replace themselves instead.
        return reswap(retarget(response, "#upload-forms"), "outerHTML")
    return render_page(request, "contracts/upload.html", context, status=400)
