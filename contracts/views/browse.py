"""Dashboard pages (thin: look up with permission, call a selector or service, render).

Every page needs a signed-in user and is readable by any signed-in user; actions (answer,
withdraw, force, upload for a team) are for members of the team concerned, and look the object
up together with that check so a stranger gets 404. htmx requests get the page's named partial
(``template#partial``) and every response says ``Vary: HX-Request``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from contracts.models import Asset, ContractVersion, Proposal, SyncRun, Team
from contracts.presenters.graphics import Mark, timeline_layout
from contracts.presenters.guarantees import guarantee_label_with_column
from contracts.presenters.lineage import lineage_drawing
from contracts.selectors import dashboard as sel
from contracts.selectors.access import (
    asset_audits_readable,
    proposals_readable,
    reader_for_user,
)
from contracts.selectors.column_usage import asset_column_readers, proposal_impacts
from contracts.selectors.deprecations import asset_campaign, model_versions
from contracts.selectors.supersession import proposal_latest, proposal_lineage
from tessera_site.lib.htmx import HtmxHttpRequest

ANSWER_PARTIAL = "proposals/_answer_form.html"
AUDIT_ROWS = 60

# What the asset page shows of the audits, given by the layer above (tessera_site/urls.py passes
# audits.presenters.asset_audit_context): contracts never imports the audits app.
AuditContext = Callable[..., dict[str, Any]]


def _no_audits(asset: Asset, *, runs: list[Any], history: bool) -> dict[str, Any]:
    return {}


def render_page(
    request: HtmxHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the whole page, or only ``partial`` for htmx requests (that are not boosted navigation)."""
    name = template
    if partial and getattr(request, "htmx", False) and not request.htmx.boosted:
        name = f"{template}#{partial}"
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def answer_partial_available() -> bool:
    """The answer buttons are the workflow's partial; pages degrade to a link while it is absent."""
    try:
        get_template(ANSWER_PARTIAL)
    except TemplateDoesNotExist:
        return False
    return True


def _int(value: str | None, default: int = 1) -> int:
    try:
        return max(1, int(value or default))
    except ValueError:
        return default


# --- Home ----------------------------------------------------------------------------------------
@login_required
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    teams = sel.user_teams(user=request.user)
    # The team switcher narrows the page to one of the user's teams; any other slug is ignored.
    slug = request.GET.get("team", "")
    chosen = next((t for t in teams if t.slug == slug), None) if slug else None
    data = sel.home_data(user=request.user, teams=[chosen] if chosen else teams)
    return render_page(
        request,
        "home.html",
        {
            "data": data,
            "chosen": chosen,
            "answer_partial": answer_partial_available(),
            "base_url": request.build_absolute_uri("/")[:-1],
        },
        # After an answer is recorded in place, the inbox reloads itself so the item moves to "answered".
        partial="inbox",
    )


# --- Assets --------------------------------------------------------------------------------------
@login_required
@require_GET
def asset_list(request: HtmxHttpRequest) -> HttpResponse:
    g = request.GET
    filters = sel.AssetFilters(
        search=g.get("q", "").strip()[:200],
        team=g.get("team", ""),
        project=g.get("project", ""),
        type=g.get("type", ""),
        mode=g.get("mode", ""),
        status=g.get("status", "") if g.get("status", "") in sel.STATUS_FILTERS else "",
        sort=g.get("sort", "name"),
        page=_int(g.get("page")),
    )
    choices = sel.asset_filter_choices()
    page = sel.asset_search(filters=filters, choices=choices)
    query = g.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render_page(
        request,
        "contracts/asset_list.html",
        {
            "page": page,
            "filters": filters,
            "choices": choices,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
        },
        partial="results",
    )


@login_required
@require_GET
def asset_detail(request: HtmxHttpRequest, pk: int, audit_context: AuditContext = _no_audits) -> HttpResponse:
    asset = get_object_or_404(Asset.objects.select_related("owner_team", "project", "active_version"), pk=pk)

    audits_readable = asset_audits_readable(reader=reader_for_user(request.user), asset=asset)
    page = sel.asset_page(asset=asset, audit_limit=AUDIT_ROWS if audits_readable else 0)
    readers = asset_column_readers(asset=asset)
    for column in page.columns:
        column["readers"] = readers.by_column.get(column.get("name", ""), [])
    return render_page(
        request,
        "contracts/asset_detail.html",
        {
            "asset": asset,
            "p": page,
            "timeline": _timeline(page),
            "mini": _mini_lineage(asset, page),
            "is_owner": asset.owner_team_id in sel.user_team_ids(user=request.user),
            "audits_hidden": not audits_readable,
            "unknown_readers": readers.unknown,
            "campaign": asset_campaign(asset=asset),
            "model_versions": model_versions(asset=asset) if asset.model_version else [],
            **audit_context(asset, runs=page.audits, history=audits_readable),
        },
    )


def _timeline(page: sel.AssetPage) -> Any:
    now = timezone.now()
    marks: list[Mark] = []
    for v in page.versions:
        marks.append(
            Mark(
                lane="version",
                at=v.published_at or v.created_at,
                label=v.semver,
                url=f"#v{v.semver}",
                css=f"kind-{v.change_kind} st-{v.status}",
                title=f"v{v.semver} ({v.change_kind}, {v.status}) {v.created_at:%Y-%m-%d %H:%M}",
            )
        )
    for p in page.proposals:
        end = p.resolved_at or (now if p.is_open else p.created_at)
        mark = Mark(
            lane="proposal",
            at=p.created_at,
            end_at=end,
            label=_proposal_label(p),
            url=p.get_absolute_url(),
            css=f"prop-{p.status}",
            title=f"Proposal #{p.pk} {p.get_status_display()} — opened {p.created_at:%Y-%m-%d %H:%M}"
            + (f". {p.resolution_reason}" if p.is_overtaken and p.resolution_reason else ""),
        )
        mark.tick_times = [
            (
                a.updated_at,
                f"ans-{a.answer}",
                f"{a.team.slug}: {a.get_answer_display()} {a.updated_at:%Y-%m-%d %H:%M}",
            )
            for a in p.acknowledgments.all()
        ]
        marks.append(mark)
    for run in page.audits:
        marks.append(
            Mark(
                lane="audit",
                at=run.run_at,
                label="",
                url=f"#audit-{run.pk}",
                css=f"audit-{run.status}",
                title=f"{run.get_tool_display()} audit {run.status} — {run.passed}/{run.checked} passed, {run.run_at:%Y-%m-%d %H:%M}",
            )
        )
    return timeline_layout(marks, now=now)


def _proposal_label(p: Proposal) -> str:
    """Superseded and withdrawn proposals say so on the timeline, not only by their colour."""
    if p.status == Proposal.Status.SUPERSEDED:
        return f"#{p.pk} → #{p.superseded_by_id}" if p.superseded_by_id else f"#{p.pk} superseded"
    if p.status == Proposal.Status.WITHDRAWN:
        return f"#{p.pk} withdrawn"
    return f"#{p.pk}"


def _mini_lineage(asset: Asset, page: sel.AssetPage) -> dict[str, Any]:
    return lineage_drawing(page.graph, focus_id=asset.pk, paths=True)


@login_required
@require_GET
def version_diff(request: HtmxHttpRequest, pk: int, a: int, b: int) -> HttpResponse:
    from contracts.compat.serialize import spec_from_version
    from contracts.compat.verdict import evaluate

    asset = get_object_or_404(Asset.objects.select_related("owner_team", "project"), pk=pk)
    if max(a, b) >= 2**63:  # SQLite refuses such numbers in an IN list rather than matching nothing
        raise Http404("No such version of this asset")
    versions = {v.pk: v for v in ContractVersion.objects.filter(asset=asset, pk__in=[a, b])}
    if a not in versions or b not in versions:
        raise Http404("No such version of this asset")
    old, new = versions[a], versions[b]
    verdict = evaluate(old=spec_from_version(old), new=spec_from_version(new), mode=asset.compatibility_mode)
    return render_page(
        request,
        "contracts/version_diff.html",
        {"asset": asset, "old": old, "new": new, "verdict": verdict, **diff_rows(old, new, verdict)},
    )


def diff_rows(old: ContractVersion, new: ContractVersion, verdict: Any) -> dict[str, Any]:
    """Columns and guarantees of two versions aligned side by side, each row with its changes."""
    from contracts.compat.diff.guarantees import guarantee_key
    from contracts.compat.serialize import spec_from_version

    breaking = {id(c) for c in verdict.breaking_changes}
    by_column: dict[str, list[dict[str, Any]]] = {}
    by_guarantee: dict[str, list[dict[str, Any]]] = {}
    for change in verdict.changes:
        entry = {"reason": change.reason, "breaking": id(change) in breaking, "kind": change.kind}
        if change.guarantee:
            by_guarantee.setdefault(change.guarantee, []).append(entry)
        elif change.column:
            by_column.setdefault(change.column, []).append(entry)
    old_cols = {c["name"]: c for c in old.columns}
    new_cols = {c["name"]: c for c in new.columns}
    names = [c["name"] for c in new.columns] + [n for n in old_cols if n not in new_cols]
    columns = [
        {"name": n, "old": old_cols.get(n), "new": new_cols.get(n), "changes": by_column.get(n, [])}
        for n in names
    ]
    old_spec, new_spec = spec_from_version(old), spec_from_version(new)
    old_g = {guarantee_key(g): g for g in old_spec.guarantees}
    new_g = {guarantee_key(g): g for g in new_spec.guarantees}
    keys = list(new_g) + [k for k in old_g if k not in new_g]
    guarantees = [
        {
            "key": k,
            "old": old_g.get(k),
            "new": new_g.get(k),
            "old_label": guarantee_label_with_column(old_g.get(k)),
            "new_label": guarantee_label_with_column(new_g.get(k)),
            "changes": by_guarantee.get(k, []),
        }
        for k in keys
    ]
    other = [
        {"reason": c.reason, "breaking": id(c) in breaking}
        for c in verdict.changes
        if not c.guarantee and not c.column
    ]
    return {"columns": columns, "guarantees": guarantees, "other_changes": other}


# --- Proposals -----------------------------------------------------------------------------------
@login_required
@require_GET
def proposal_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    readable = proposals_readable(reader=reader_for_user(request.user), proposals=Proposal.objects.all())
    proposal = get_object_or_404(sel.proposals_with_answers(readable), pk=pk)
    # htmx asks for the answers card again after an answer was recorded in place.
    return render_page(
        request, "contracts/proposal_detail.html", proposal_context(request, proposal), partial="answers"
    )


def proposal_context(request: HtmxHttpRequest, proposal: Proposal, **extra: Any) -> dict[str, Any]:
    team_ids = sel.user_team_ids(user=request.user)
    answers = {a.team_id: a for a in proposal.acknowledgments.all()}
    required = [
        {"team": t, "answer": answers.get(t.pk), "mine": t.pk in team_ids}
        for t in proposal.required_teams.all()
    ]
    owner_id = proposal.asset.owner_team_id
    is_producer = owner_id in team_ids or request.user.is_superuser
    return {
        "proposal": proposal,
        "asset": proposal.asset,
        "required": required,
        "answer_rows": [{"team": r["team"], "ack": r["answer"]} for r in required if r["mine"]],
        "is_producer": is_producer,
        "may_force": is_producer
        and (owner_id in sel.user_lead_team_ids(user=request.user) or request.user.is_superuser),
        "history": sel.proposal_history(proposal=proposal),
        "lineage": proposal_lineage(proposal=proposal),
        "successor": proposal_latest(proposal=proposal),
        "verdict": proposal.verdict or {},
        "changes": _marked_changes(proposal.verdict or {}),
        "impacts": proposal_impacts(proposal=proposal),
        "answer_partial": answer_partial_available(),
        **extra,
    }


def _marked_changes(verdict: dict[str, Any]) -> list[dict[str, Any]]:
    """The verdict's changes, each flagged breaking when it is among the verdict's breaking changes."""

    def sig(c: dict[str, Any]) -> tuple[Any, ...]:
        return (c.get("kind"), c.get("column"), c.get("guarantee"))

    breaking = {sig(c) for c in verdict.get("breaking_changes") or []}
    return [{**c, "breaking": sig(c) in breaking} for c in verdict.get("changes") or []]


# --- Teams and the audit log ---------------------------------------------------------------------------
@login_required
@require_GET
def team_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    team = get_object_or_404(Team, slug=slug)
    page = sel.team_page(team=team)
    return render_page(
        request,
        "contracts/team_detail.html",
        {"team": team, "t": page, "is_member": team.pk in sel.user_team_ids(user=request.user)},
    )


@login_required
@require_GET
def event_log(request: HtmxHttpRequest) -> HttpResponse:
    g = request.GET
    kind, team, asset = g.get("kind", "").strip(), g.get("team", "").strip(), g.get("asset", "").strip()
    page = sel.event_search(
        reader=reader_for_user(request.user), kind=kind, team=team, asset=asset, page=_int(g.get("page"))
    )
    query = g.copy()
    query.pop("page", None)
    return render_page(
        request,
        "contracts/event_log.html",
        {
            "page": page,
            "kind": kind,
            "team": team,
            "asset": asset,
            "kinds": (kinds := sel.event_kinds()),
            "kind_groups": sorted({k.split(".", 1)[0] for k in kinds if "." in k}),
            "teams": Team.objects.order_by("slug").values_list("slug", flat=True),
            "query": query.urlencode(),
        },
        partial="results",
    )


# --- Syncs ---------------------------------------------------------------------------------------------------
@login_required
@require_GET
def sync_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    sync_run = get_object_or_404(SyncRun.objects.select_related("project", "team"), pk=pk)
    response = render_page(request, "contracts/sync_detail.html", sync_context(sync_run), partial="progress")
    if request.htmx and sync_run.is_done:
        # 286 tells htmx to stop polling: the job row will not change any more.
        response.status_code = 286
    return response


# The sync summary's counts worth a tile on the progress panel, in reading order.
SUMMARY_COUNTS = [
    ("assets", "assets"),
    ("created", "created"),
    ("published", "versions published"),
    ("unchanged", "unchanged"),
    ("proposals_opened", "proposals opened"),
    ("retired", "retired"),
    ("registrations_added", "consumers added"),
    ("lineage_edges_added", "lineage edges added"),
    ("cross_project_links", "cross-project links"),
    ("exposures", "dbt exposures"),
    ("teams_created", "teams created"),
    ("warnings", "warnings"),
]


def sync_context(sync_run: SyncRun) -> dict[str, Any]:
    summary = sync_run.summary or {}
    proposals = list(
        Proposal.objects.filter(sync_run=sync_run).select_related("asset").order_by("asset__relation")[:100]
    )
    changed = list(
        ContractVersion.objects.filter(sync_run=sync_run)
        .exclude(status=ContractVersion.Status.PROPOSED)
        .exclude(change_kind=ContractVersion.ChangeKind.INITIAL)
        .select_related("asset")
        .only("id", "major", "minor", "patch", "change_kind", "asset__id", "asset__name", "asset__relation")
        .order_by("asset__relation")[:100]
    )
    counts = [(label, summary[key]) for key, label in SUMMARY_COUNTS if isinstance(summary.get(key), int)]
    return {
        "sync_run": sync_run,
        "summary": summary,
        "counts": counts,
        "proposals": proposals,
        "changed": changed,
    }
