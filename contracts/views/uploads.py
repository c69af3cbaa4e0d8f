"""Upload pages: a manifest (starts a sync) or a result file (starts an audit ingestion).

Each upload checks the team it is for (a stranger gets 404), binds the form, calls one service,
and then redirects — or, for htmx, renders the partial that replaces the form. Invalid input
re-renders the form with its error (400 without htmx; 200 with htmx, which swaps only successful
responses).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contracts.models import Team
from contracts.selectors import dashboard as sel
from contracts.selectors.access import reader_for_user, result_upload_readable
from contracts.views.access import team_for_member_or_404
from contracts.views.browse import render_page, sync_context
from tessera_site.lib.auth import actor_for_user
from tessera_site.lib.errors import ApiError


# --- uploads ----------------------------------------------------------------------------------------------
class ManifestUploadForm(forms.Form):
    team = forms.CharField(required=False)
    manifest = forms.FileField(error_messages={"required": "Choose the manifest.json of your dbt project."})
    run_results = forms.FileField(required=False)
    catalog = forms.FileField(required=False)


RESULT_FORMATS = [
    ("", "detect"),
    ("dbt", "dbt run_results.json"),
    ("great_expectations", "Great Expectations"),
    ("soda", "Soda Core scan results"),
    ("generic", "generic JSON"),
]


class ResultUploadForm(forms.Form):
    team = forms.CharField(required=False)
    results = forms.FileField(error_messages={"required": "Choose a result file."})
    format = forms.ChoiceField(choices=RESULT_FORMATS, required=False)
    asset = forms.CharField(required=False, max_length=500)


def _upload_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    team_ids = sel.user_team_ids(user=request.user)
    teams = (
        Team.objects.filter(pk__in=team_ids).order_by("slug")
        if not request.user.is_superuser
        else Team.objects.all()
    )
    return {
        "teams": list(teams),
        "manifest_form": extra.pop("manifest_form", ManifestUploadForm()),
        "results_form": extra.pop("results_form", ResultUploadForm()),
        "recent": sel.recent_syncs(team_ids=team_ids, user=request.user),
        **extra,
    }


def _team_choice(request: HttpRequest, slug: str) -> Team | None:
    """The team an upload is for: one of the user's teams (404 for any other), or none when the user has none."""
    if slug:
        return team_for_member_or_404(request, slug)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render_page(request, "contracts/upload.html", _upload_context(request))
    from contracts.services.sync import sync_submit

    form = ManifestUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_error(request, manifest_form=form)
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
    except ApiError as exc:
        form.add_error("manifest", exc.detail)
        return _upload_error(request, manifest_form=form)
    if request.htmx:
        return render_page(request, "contracts/sync_detail.html", sync_context(sync_run), partial="progress")
    return redirect(sync_run)


@login_required
@require_POST
def upload_results(request: HttpRequest) -> HttpResponse:
    form = ResultUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_error(request, results_form=form)
    team = _team_choice(request, form.cleaned_data["team"])
    if team is None and not request.user.is_superuser:
        raise Http404("Choose one of your teams")
    try:
        result_upload = _submit_results(request, form, team)
    except ApiError as exc:
        form.add_error("results", exc.detail)
        return _upload_error(request, results_form=form)
    if request.htmx:
        return render_page(
            request, "contracts/result_upload.html", {"upload": result_upload, "runs": []}, partial="progress"
        )
    return redirect("result_upload_detail", pk=result_upload.pk)


def _submit_results(request: HttpRequest, form: ResultUploadForm, team: Team | None) -> Any:
    import dataclasses

    from audits.services import result_upload_create
    from django.conf import settings
    from django.db import transaction

    from audits.selectors import asset_consumer_team_ids, asset_find_by_ref
    from audits.tasks import ingest_result_upload

    upload_file = form.cleaned_data["results"]
    if upload_file.size > settings.TESSERA_MAX_UPLOAD_BYTES:
        raise ApiError(
            413, "too_large", f"The file is larger than {settings.TESSERA_MAX_UPLOAD_BYTES} bytes."
        )
    hint = asset_find_by_ref(ref=form.cleaned_data["asset"]) if form.cleaned_data.get("asset") else None
    if (
        hint is not None
        and team is not None
        and not request.user.is_superuser
        and team.pk != hint.owner_team_id
        and team.pk not in asset_consumer_team_ids(asset=hint)
    ):
        raise ApiError(403, "forbidden", f"{team.slug} neither owns nor uses {hint.relation}.")
    actor = actor_for_user(request.user)
    if team is not None:
        # The upload is made for the team chosen in the form, not for all of the user's teams.
        actor = dataclasses.replace(actor, team=team)
    with transaction.atomic():
        result_upload = result_upload_create(
            content=upload_file.read(),
            filename=upload_file.name,
            actor=actor,
            format=form.cleaned_data.get("format") or None,
            asset_ref=form.cleaned_data.get("asset") or None,
        )
        transaction.on_commit(lambda: ingest_result_upload.delay(result_upload.pk))
    return result_upload


def _upload_error(request: HttpRequest, **forms_: Any) -> HttpResponse:
    context = _upload_context(request, **forms_)
    if request.htmx:
        response = render_page(request, "contracts/upload.html", context, partial="forms")
        # The forms were posted to fill the job area; on an error they replace themselves instead.
        response["HX-Retarget"] = "#upload-forms"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render_page(request, "contracts/upload.html", context, status=400)


@login_required
@require_GET
def result_upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from audits.models import AuditRun, ResultUpload

    result_upload = get_object_or_404(ResultUpload.objects.select_related("team"), pk=pk)
    if not result_upload_readable(reader=reader_for_user(request.user), upload=result_upload):
        raise Http404("No such upload")  # a team's uploads are its own business, as in the API
    runs = list(
        AuditRun.objects.filter(upload=result_upload).select_related("asset").order_by("asset__relation")
    )
    response = render_page(
        request, "contracts/result_upload.html", {"upload": result_upload, "runs": runs}, partial="progress"
    )
    if request.htmx and result_upload.is_done:
        response.status_code = 286
    return response
