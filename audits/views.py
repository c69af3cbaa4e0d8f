"""The audits app's pages: upload a result file for one of the user's teams, follow its ingestion.

The upload form lives on the dashboard's upload page (beside the manifest form, drawn by the
``result_upload_form`` tag); an invalid form re-renders that page with its error. The result
page polls until the job ends, then shows the file's kind of run, what was counted and what
was not, the runs written and every unmatched check.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from audits.models import AuditRun, ResultUpload
from audits.selectors import asset_consumer_team_ids, asset_find_by_ref
from audits.services import result_upload_submit
from contracts.models import Team
from contracts.selectors.access import reader_for_user, result_upload_readable
from contracts.selectors.teams import actor_for_user
from contracts.views.access import team_for_member_or_404
from contracts.views.browse import render_page
from contracts.views.uploads import upload_error_response
from tessera_site.lib.errors import DomainError, PermissionDenied
from tessera_site.lib.htmx import HtmxHttpRequest
from tessera_site.lib.uploads import upload_refusal

RESULT_FORMATS = [
    ("", "detect"),
    ("dbt", "dbt run_results.json or sources.json"),
    ("great_expectations", "Great Expectations"),
    ("soda", "Soda Core scan results"),
    ("generic", "generic JSON"),
]
RESULT_TEMPLATE = "audits/result_upload.html"


class ResultUploadForm(forms.Form):
    team = forms.CharField(required=False)
    results = forms.FileField(error_messages={"required": "Choose a result file."})
    format = forms.ChoiceField(choices=RESULT_FORMATS, required=False)
    asset = forms.CharField(required=False, max_length=500)


def _upload_team_or_404(request: HttpRequest, slug: str) -> Team | None:
    """The team an upload is for: one of the user's teams (404 for any other); none only for a superuser."""
    team = team_for_member_or_404(request, slug) if slug else None
    if team is None and not request.user.is_superuser:
        raise Http404("Choose one of your teams")
    return team


def _check_hint_access(request: HttpRequest, team: Team | None, asset_ref: str) -> None:
    hint = asset_find_by_ref(ref=asset_ref) if asset_ref else None
    if hint is None or team is None or request.user.is_superuser:
        return
    if team.pk != hint.owner_team_id and team.pk not in asset_consumer_team_ids(asset=hint):
        raise PermissionDenied(f"{team.slug} neither owns nor uses {hint.relation}.")


def _submit(request: HttpRequest, form: ResultUploadForm, team: Team | None) -> ResultUpload:
    upload_file = form.cleaned_data["results"]  # within the limit: SizeLimitUploadHandler dropped larger ones
    _check_hint_access(request, team, form.cleaned_data.get("asset") or "")
    actor = actor_for_user(request.user)
    if team is not None:
        # The upload is made for the team chosen in the form, not for all of the user's teams.
        actor = dataclasses.replace(actor, team=team)
    return result_upload_submit(
        content=upload_file,
        filename=upload_file.name,
        actor=actor,
        format=form.cleaned_data.get("format") or None,
        asset_ref=form.cleaned_data.get("asset") or None,
    )


@login_required
@require_POST
def upload_results(request: HtmxHttpRequest) -> HttpResponse:
    form = ResultUploadForm(request.POST, request.FILES)
    valid = form.is_valid()
    refusal = upload_refusal(request)  # a file past the size limit was dropped while it streamed
    if refusal is not None:
        form.errors["results"] = form.error_class([refusal.detail])
    if refusal is not None or not valid:
        return upload_error_response(request, results_form=form)
    team = _upload_team_or_404(request, form.cleaned_data["team"])
    try:
        result_upload = _submit(request, form, team)
    except DomainError as exc:
        form.add_error("results", exc.detail)
        return upload_error_response(request, results_form=form)
    if request.htmx:
        return render_page(
            request, RESULT_TEMPLATE, _result_context(result_upload, runs=[]), partial="progress"
        )
    return redirect("result_upload_detail", pk=result_upload.pk)


def _result_context(upload: ResultUpload, *, runs: list[AuditRun]) -> dict[str, Any]:
    summary = upload.summary or {}
    return {
        "upload": upload,
        "runs": runs,
        "run_kind": summary.get("run_kind", ""),
        "counted": summary.get("counted"),
        "not_counted": summary.get("not_counted") or [],
    }


@login_required
@require_GET
def result_upload_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    result_upload = get_object_or_404(ResultUpload.objects.select_related("team"), pk=pk)
    if not result_upload_readable(reader=reader_for_user(request.user), upload=result_upload):
        raise Http404("No such upload")  # a team's uploads are its own business, as in the API
    runs = list(
        AuditRun.objects.filter(upload=result_upload).select_related("asset").order_by("asset__relation")
    )
    response = render_page(
        request, RESULT_TEMPLATE, _result_context(result_upload, runs=runs), partial="progress"
    )
    if request.htmx and result_upload.is_done:
        stop = HttpResponseStopPolling(response.content)
        stop["Vary"] = response.get("Vary", "HX-Request")
        return stop
    return response
