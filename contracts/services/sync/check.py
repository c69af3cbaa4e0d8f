"""The CI dry run (``POST /api/v1/sync/dbt/check``): what a pull request's manifest would change.

Nothing is written unless ``open_proposals`` is set; then each breaking change that needs
acknowledgments gets a ``check``-origin proposal, so consumers can answer before the merge. The
next sync whose schema matches an approved check proposal publishes it (see the proposals step
of the sync). A relation the manifest no longer builds is judged too: removed (model deleted,
disabled, made ephemeral) or moved (same unique_id, new relation) breaks under backward and full,
and with consumers needs their acknowledgment before the merge. So does a public model made
protected or private while other projects read it (``access_changes``): the sync asks its readers
in a proposal and the merge waits for their approval of it. ``sync_check`` reads as the sync does:
parse → match assets → removed assets → judge each change → access narrowings → report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from contracts.compat.diff.relations import relation_moved
from contracts.compat.verdict import Verdict, evaluate, evaluate_removal
from contracts.domain import DEFAULT_MODE, AssetSpec, ContractSpec, ParsedManifest
from contracts.ingest.catalog import parse_catalog
from contracts.ingest.errors import ManifestError
from contracts.ingest.manifest import load_manifest_json, parse_manifest_document
from contracts.ingest.manifest_decode import load_manifest_path
from contracts.models import Acknowledgment, Asset, ContractVersion, Project, Proposal, Registration
from contracts.services.impact import check_impact, check_impact_fields
from contracts.services.proposals.opening import proposal_open
from contracts.services.relations import ACCESS, MOVED, move_change, relation_change_hash, removal_change
from contracts.services.sync.access import access_check_narrowings, access_check_warnings
from contracts.services.sync.assets import existing_assets, specs_by_relation
from contracts.services.sync.groups import group_owners_apply
from contracts.services.sync.owners import owners_refusals
from contracts.services.sync.references import references_resolve
from contracts.services.sync.submit import manifest_refusal
from contracts.services.sync.versions import transitive_history
from contracts.services.versions import version_spec
from tessera_site.lib.errors import TooLarge
from tessera_site.lib.uploads import read_all, upload_path

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor

# Proposals whose answers still count for a check: open ones, and approved/published ones.
_LIVE = (*Proposal.OPEN_STATUSES, Proposal.Status.PUBLISHED, Proposal.Status.FORCED)

Changed = list[tuple[Asset, AssetSpec, str]]


def sync_check(
    *,
    manifest: bytes | UploadedFile,
    catalog: bytes | UploadedFile | None = None,
    actor: Actor,
    open_proposals: bool = False,
) -> dict[str, Any]:
    """The per-asset verdicts of a manifest against the active contracts, and ``may_merge``."""
    actor.require_scope("write" if open_proposals else "read")
    parsed = _parse(manifest, catalog)
    warnings: list[str] = list(parsed.warnings)
    project = Project.objects.select_related("owner_team").filter(name=parsed.project_name).first()
    group_owners_apply(parsed, warn=warnings.append)  # a group's owner owns its models, as in a sync
    added, changed, seen, refused = _match(parsed, project, actor, warnings)
    relational, removed = _relational(project, seen, added, parsed.absent)
    known = _Known.load(changed, relational)
    results = [
        _judge(asset, spec, content_hash, known=known, actor=actor, open_proposals=open_proposals)
        for asset, spec, content_hash in changed
    ] + [_judge_relation(c, known=known, actor=actor, open_proposals=open_proposals) for c in relational]
    by_asset = {r["asset_id"]: r for r in reversed(results)}  # the first result of each asset
    for entry in removed:
        result = by_asset[entry["asset_id"]]
        entry.update(
            consumers=[t["team"] for t in result["required_teams"]], breaking=result["breaking"],
            acknowledged=result["acknowledged"],
        )  # fmt: skip
    references = _references(parsed, warnings)
    access_check_warnings(parsed, references=references, warnings=warnings)  # private/protected reads
    narrowed = _narrowings_decided(
        access_check_narrowings(parsed, project_id=project.pk if project else None, warnings=warnings)
    )
    report = _report(
        parsed, project, results=results, added=added, removed=removed, narrowed=narrowed, warnings=warnings
    )
    # What a sync of this manifest by this key would refuse (reported; may_merge is about answers).
    counts = report["counts"] | {"refused": len(refused), "references": len(references)}
    extra = {"refused": refused, "references": references, "access_changes": narrowed}
    return report | extra | {"counts": counts}


def _references(parsed: ParsedManifest, warnings: list[str]) -> list[dict[str, Any]]:
    """Other projects' assets this manifest reads through cross-project refs, as a sync would link
    them (services.sync.references): reads, never added assets of this project."""
    refs = references_resolve(parsed)
    warnings.extend(refs.warnings(project_name=parsed.project_name))
    return [
        {
            "unique_id": node.unique_id,
            "project": node.package_name,
            "relation": asset.relation,
            "asset_id": asset.pk,
            "owner_team": asset.owner_team.slug,
            "access": node.access,
        }
        for node, asset in refs.linked
    ]


def _parse(manifest: bytes | UploadedFile, catalog: bytes | UploadedFile | None) -> ParsedManifest:
    limit = settings.TESSERA_MAX_UPLOAD_BYTES
    size = len(manifest) if isinstance(manifest, bytes | bytearray) else int(manifest.size or 0)
    if size > limit:
        raise TooLarge(f"The manifest is {size:,} bytes; the limit is {limit:,} bytes.")
    try:
        catalog_columns = parse_catalog(_bytes(catalog)) if catalog else None
        return parse_manifest_document(
            _manifest_document(manifest), catalog_columns=catalog_columns, consume=True
        )
    except ManifestError as exc:
        raise manifest_refusal(exc) from None


def _manifest_document(manifest: bytes | UploadedFile) -> dict[str, Any]:
    """The decoded manifest; an upload spooled to a temporary file (the API's) is mapped and
    decoded node by node, its text never read whole into memory."""
    if isinstance(manifest, bytes | bytearray):
        return load_manifest_json(manifest)
    path = upload_path(manifest)
    return load_manifest_path(path) if path else load_manifest_json(read_all(manifest))


def _bytes(upload: bytes | UploadedFile) -> bytes:
    return upload if isinstance(upload, bytes) else read_all(upload)


def _match(
    parsed: ParsedManifest, project: Project | None, actor: Actor, warnings: list[str]
) -> tuple[list[dict[str, Any]], Changed, set[int], list[dict[str, Any]]]:
    """New relations, this project's assets whose contract changed, every asset seen, and the
    nodes a sync by ``actor`` would refuse (the owners step's rules; left out of the rest)."""
    by_relation, _ = specs_by_relation(parsed, warn=warnings.append)
    existing = existing_assets(list(by_relation))
    refused = owners_refusals(
        project_name=parsed.project_name,
        project=project,
        actor=actor,
        by_relation=by_relation,
        existing=existing,
    )
    warnings.extend(r["reason"] for r in refused)
    refused_ids = {r["unique_id"] for r in refused}
    added: list[dict[str, Any]] = []
    changed: Changed = []
    seen: set[int] = set()
    for relation, spec in by_relation.items():
        if spec.unique_id in refused_ids:
            continue
        asset = existing.get(relation)
        if asset is None:
            added.append(
                {
                    "relation": relation,
                    "unique_id": spec.unique_id,
                    "resource_type": spec.resource_type,
                    "spec": spec,
                }
            )
            continue
        if asset.project_id is not None and (project is None or asset.project_id != project.pk):
            continue  # another project's asset, read here through a source
        seen.add(asset.pk)
        spec.contract.mode = spec.compatibility_mode or asset.compatibility_mode or DEFAULT_MODE
        content_hash = spec.contract.content_hash()
        if asset.active_version_id is None or asset.content_hash != content_hash:
            changed.append((asset, spec, content_hash))
    return added, changed, seen, refused


@dataclass(slots=True)
class _Relational:
    """An active asset the manifest no longer names: moved (its unique_id builds another
    relation; ``spec`` is that relation) or removed (``spec`` is None)."""

    asset: Asset
    spec: AssetSpec | None
    content_hash: str  # what a proposal for it proposes (services.relations.relation_change_hash)
    relation_change: dict[str, Any]


def _relational(
    project: Project | None, seen: set[int], added: list[dict[str, Any]], absent: dict[str, str]
) -> tuple[list[_Relational], list[dict[str, Any]]]:
    """The project's active assets the manifest no longer names: each is a relation removed
    (disabled, ephemeral, deleted: the manifest says which) or moved (same unique_id elsewhere)."""
    if project is None:
        return [], []
    new_specs = {a["unique_id"]: a for a in added}
    found, removed = [], []
    for asset in Asset.objects.filter(project=project, status=Asset.Status.ACTIVE).exclude(pk__in=seen):
        new = new_specs.get(asset.unique_id) if asset.resource_type != Asset.Type.SOURCE else None
        if new is not None and new["resource_type"] != "source":
            spec = new["spec"]
            spec.contract.mode = spec.compatibility_mode or asset.compatibility_mode or DEFAULT_MODE
            change = move_change(asset=asset, spec=spec)
            found.append(
                _Relational(asset, spec, relation_change_hash(spec.contract.content_hash(), change), change)
            )
            added.remove(new)
            continue
        change = removal_change(asset=asset, why=absent.get(asset.unique_id, "deleted"))
        found.append(_Relational(asset, None, relation_change_hash(asset.content_hash, change), change))
        removed.append({"relation": asset.relation, "asset_id": asset.pk, "why": change["why"]})
    for entry in added:
        entry.pop("spec", None)
    return found, removed


def _relation_verdict(item: _Relational, base: ContractVersion | None) -> Verdict:
    old = version_spec(base) if base else None
    change = item.relation_change
    if item.spec is not None:
        moved = relation_moved(old_relation=change["from"], new_relation=change["to"])
        contract = item.spec.contract
        return evaluate(old=old or contract, new=contract, mode=contract.mode, relation_changes=[moved])
    mode = item.asset.compatibility_mode or DEFAULT_MODE
    return evaluate_removal(
        old=old or ContractSpec(mode=mode), mode=mode, relation=item.asset.relation, why=change["why"]
    )


def _judge_relation(
    item: _Relational, *, known: _Known, actor: Actor, open_proposals: bool
) -> dict[str, Any]:
    """A removed or moved relation: judged under the asset's mode, asked like any breaking change."""
    asset = item.asset
    base = known.active.get(asset.active_version_id) if asset.active_version_id else None
    verdict = _relation_verdict(item, base)
    proposed = (
        item.spec.contract if item.spec is not None else (version_spec(base) if base else ContractSpec())
    )
    result = _decided(
        asset, item.spec.unique_id if item.spec else asset.unique_id, base, verdict, item.content_hash,
        known=known, actor=actor, open_proposals=open_proposals, proposed=proposed,
        relation_change=item.relation_change,
    )  # fmt: skip
    return result | {"relation_change": item.relation_change}


@dataclass
class _Known:
    """What the database knows about the changed assets, read in a handful of queries."""

    active: dict[int, ContractVersion] = field(default_factory=dict)
    history: dict[int, list[tuple[str, Any]]] = field(default_factory=dict)
    consumers: dict[int, dict[int, str]] = field(default_factory=dict)  # asset → team id → slug
    proposals: dict[tuple[int, str], Proposal] = field(default_factory=dict)  # (asset, hash) → newest

    @classmethod
    def load(cls, changed: Changed, relational: list[_Relational] = ()) -> _Known:  # type: ignore[assignment]
        assets = [a for a, _, _ in changed] + [r.asset for r in relational]
        asset_ids = [a.pk for a in assets]
        known = cls(
            active={
                v.pk: v
                for v in ContractVersion.objects.filter(
                    pk__in=[a.active_version_id for a in assets if a.active_version_id]
                )
            },
            history=transitive_history(
                [a.pk for a, s, _ in changed if s.contract.mode.endswith("_transitive")]
            ),
        )
        known.consumers = _consumers(asset_ids)
        for proposal in (
            Proposal.objects.filter(asset_id__in=asset_ids, status__in=_LIVE)
            .prefetch_related("acknowledgments__team", "required_teams")
            .order_by("id")
        ):
            known.proposals[(proposal.asset_id, proposal.proposed_hash)] = proposal  # the newest wins
        return known


def _consumers(asset_ids: list[int]) -> dict[int, dict[int, str]]:
    """asset → team id → slug of the teams registered as its consumers."""
    out: dict[int, dict[int, str]] = {}
    for asset_id, team_id, slug in Registration.objects.filter(asset_id__in=asset_ids).values_list(
        "asset_id", "team_id", "team__slug"
    ):
        out.setdefault(asset_id, {})[team_id] = slug
    return out


def _judge(
    asset: Asset, spec: AssetSpec, content_hash: str, *, known: _Known, actor: Actor, open_proposals: bool
) -> dict[str, Any]:
    """One changed asset: its verdict, the teams that must acknowledge it and their answers."""
    base = known.active.get(asset.active_version_id) if asset.active_version_id else None
    verdict = evaluate(
        old=version_spec(base) if base else None,
        new=spec.contract,
        mode=spec.contract.mode,
        history=known.history.get(asset.pk, ()),
    )
    result = _decided(
        asset, spec.unique_id, base, verdict, content_hash, known=known, actor=actor,
        open_proposals=open_proposals, proposed=spec.contract, relation_change=None,
    )  # fmt: skip
    return result | {"relation_change": None}


def _decided(
    asset: Asset, unique_id: str, base: ContractVersion | None, verdict: Verdict, content_hash: str, *,
    known: _Known, actor: Actor, open_proposals: bool, proposed: ContractSpec,
    relation_change: dict[str, Any] | None,
) -> dict[str, Any]:  # fmt: skip
    """Who must acknowledge a verdict, their answers so far, and whether it may merge."""
    required = {
        tid: slug for tid, slug in known.consumers.get(asset.pk, {}).items() if tid != asset.owner_team_id
    }
    # Consumer-aware: only the teams whose reads the change touches (or are unknown) must answer.
    impact = (
        check_impact(asset=asset, verdict=verdict.as_dict(), slugs=required) if verdict.breaking else None
    )
    if impact is not None:
        required = {tid: slug for tid, slug in required.items() if tid in impact.required_ids}
    proposal = known.proposals.get((asset.pk, content_hash))
    if verdict.breaking and required and proposal is None and open_proposals:
        proposal = _check_proposal_open(
            asset, proposed, base, verdict, actor=actor, relation_change=relation_change
        )
    return {
        "asset_id": asset.pk,
        "relation": asset.relation,
        "unique_id": unique_id,
        "owner_team": asset.owner_team.slug,
        "mode": verdict.mode,
        "current_version": base.semver if base else None,
        "bump": verdict.bump,
        "breaking": verdict.breaking,
        "summary": verdict.summary,
        "reasons": verdict.reasons,
        "unknown": verdict.unknown,
        "changes": [c.as_dict() for c in verdict.changes],
        **_asked(proposal, required, breaking=verdict.breaking),
        **check_impact_fields(impact),
    }


def _asked(proposal: Proposal | None, required: dict[int, str], *, breaking: bool) -> dict[str, Any]:
    """The teams a breaking change asks, their answers to ``proposal`` so far, and whether they
    acknowledged it (the proposal approved, or every asked team approved)."""
    teams = _answers(proposal, required)
    needs_ack = breaking and bool(required)
    accepted = proposal is not None and proposal.status in (
        Proposal.Status.APPROVED,
        Proposal.Status.PUBLISHED,
    )
    acknowledged = (
        not needs_ack or accepted or all(t["answer"] == Acknowledgment.Answer.APPROVED for t in teams)
    )
    return {
        "required_teams": teams,
        "needs_acknowledgment": needs_ack,
        "acknowledged": acknowledged,
        "proposal": (
            {"id": proposal.pk, "status": proposal.status, "origin": proposal.origin}
            if proposal is not None
            else None
        ),
    }


def _narrowings_decided(narrowings: list[tuple[Asset, dict[str, Any], Verdict]]) -> list[dict[str, Any]]:
    """Each breaking access narrowing (services.sync.access) with the teams it asks and their answers
    to the proposal a sync opened for it (same asset, same target access), judged like a contract
    change. Only open proposals count, not ``_LIVE``'s published ones: publishing one makes the asset
    narrower, so one published while the asset is public again is an answer already spent."""
    if not narrowings:
        return []
    asset_ids = [asset.pk for asset, _, _ in narrowings]
    proposals: dict[tuple[int, str], Proposal] = {}
    for proposal in (
        Proposal.objects.filter(
            asset_id__in=asset_ids, status__in=Proposal.OPEN_STATUSES, relation_change__kind=ACCESS
        )
        .prefetch_related("acknowledgments__team", "required_teams")
        .order_by("id")
    ):
        proposals[(proposal.asset_id, str(proposal.relation_change.get("to")))] = proposal  # newest wins
    consumers = _consumers(asset_ids)
    out = []
    for asset, entry, verdict in narrowings:
        required = {tid: s for tid, s in consumers.get(asset.pk, {}).items() if tid != asset.owner_team_id}
        impact = check_impact(asset=asset, verdict=verdict.as_dict(), slugs=required)
        required = {tid: s for tid, s in required.items() if tid in impact.required_ids}
        asked = proposals.get((asset.pk, entry["to"]))
        out.append(entry | _asked(asked, required, breaking=verdict.breaking))
    return out


def _check_proposal_open(
    asset: Asset,
    proposed: ContractSpec,
    base: ContractVersion | None,
    verdict: Verdict,
    *,
    actor: Actor,
    relation_change: dict[str, Any] | None = None,
) -> Proposal:
    actor.require_team(asset.owner_team)

    with transaction.atomic():
        return proposal_open(
            asset=asset, base_version=base, proposed_spec=proposed, verdict=verdict,
            origin=Proposal.Origin.CHECK, actor=actor, relation_change=relation_change,
        )  # fmt: skip


def _answers(proposal: Proposal | None, required: dict[int, str]) -> list[dict[str, Any]]:
    """Every team that must acknowledge, with its answer so far (none without a proposal)."""
    answers: dict[str, dict[str, Any]] = {}
    if proposal is not None:
        required.update({t.pk: t.slug for t in proposal.required_teams.all()})
        for ack in proposal.acknowledgments.all():
            answers[ack.team.slug] = {
                "answer": ack.answer,
                "ready_by": ack.ready_by.isoformat() if ack.ready_by else None,
                "reason": ack.reason,
            }
    return [
        {"team": slug, **answers.get(slug, {"answer": None, "ready_by": None, "reason": ""})}
        for slug in sorted(required.values())
    ]


def _report(
    parsed: ParsedManifest,
    project: Project | None,
    *,
    results: list[dict[str, Any]],
    added: list[dict[str, Any]],
    removed: list[dict[str, Any]],
    narrowed: list[dict[str, Any]],
    warnings: list[str],
) -> dict[str, Any]:
    # A breaking access narrowing waits for its readers like a contract change (its relation is
    # listed once when both wait); awaiting_acknowledgment counts the changes, not the relations.
    waiting = [r["relation"] for r in (*results, *narrowed) if not r["acknowledged"]]
    blocking = list(dict.fromkeys(waiting))
    return {
        "project": parsed.project_name,
        "project_known": project is not None,
        "may_merge": not blocking,
        "blocking": blocking,
        "counts": {
            "changed": len(results),
            "breaking": sum(1 for r in results if r["breaking"]),
            "awaiting_acknowledgment": len(waiting),
            "added": len(added),
            "removed": len(removed),
            "moved": sum(1 for r in results if (r["relation_change"] or {}).get("kind") == MOVED),
        },
        "changes": results,
        "added": added,
        "removed": removed,
        "warnings": warnings,
    }
