"""Where each check of a result file belongs: the asset, and the guarantee it proves.

dbt tests are found by their unique_id (the synced manifest's); GX, Soda and generic checks by the
table or asset they name, or the ``asset=`` of the upload. A check that cannot be placed is kept
on the upload as unmatched, with the reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from audits.ingest import BuildOutcome, CheckOutcome, ParsedResults
from audits.selectors import asset_find_by_ref, assets_for_tables
from audits.services.common import BATCH, GRef, guarantee_index
from audits.services.outcome import IngestSummary, unmatched_entry
from contracts.models import Asset, AssetNode, ContractVersion, Guarantee

# Expectation / Soda check types that prove a guarantee kind, to link their results to it.
_KIND_BY_CHECK_TYPE = {
    "expect_column_values_to_not_be_null": "not_null",
    "expect_column_values_to_be_unique": "unique",
    "expect_column_values_to_be_in_set": "accepted_values",
    "expect_column_values_to_be_between": "accepted_range",
    "expect_compound_columns_to_be_unique": "unique_combination_of_columns",
    "expect_select_column_values_to_be_unique_within_record": "unique_combination_of_columns",
}
# Soda checks that say exactly "none missing" / "no duplicates" (a threshold above 0 is a weaker promise).
_SODA_EXACT = re.compile(r"^(missing_count|duplicate_count)\(\s*[^)]+\)\s*=\s*0$", re.IGNORECASE)
_KIND_BY_SODA_METRIC = {"missing_count": "not_null", "duplicate_count": "unique"}


@dataclass
class AssetChecks:
    asset: Asset
    checks: list[tuple[CheckOutcome, Guarantee | GRef | None]] = field(default_factory=list)
    build: BuildOutcome | None = None  # dbt: what the run did to the asset's relation


def _kind_for_check(check: CheckOutcome) -> str | None:
    if check.check_type in _KIND_BY_CHECK_TYPE:
        return _KIND_BY_CHECK_TYPE[check.check_type]
    match = _SODA_EXACT.match(check.name.strip())
    return _KIND_BY_SODA_METRIC[match.group(1).lower()] if match else None


def _arguments_agree(check: CheckOutcome, guarantee: Guarantee) -> bool:
    """A tool's check proves a guarantee only if it checks the same thing: an expectation with
    another value set or range is a different promise, however alike the names."""
    if guarantee.kind in ("not_null", "unique"):
        return True
    kwargs = check.details.get("kwargs") or {}
    arguments = guarantee.arguments or {}
    if guarantee.kind == "accepted_values":
        return "value_set" in kwargs and {str(v) for v in kwargs["value_set"] or []} == {
            str(v) for v in arguments.get("values") or []
        }
    if guarantee.kind == "accepted_range":
        return (
            ("min_value" in kwargs or "max_value" in kwargs)
            and kwargs.get("min_value") == arguments.get("min_value")
            and kwargs.get("max_value") == arguments.get("max_value")
        )
    return False


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A guarantee that carries a dbt test's unique_id, with what decides whether it is the one."""

    ref: GRef
    asset_live: bool
    project: str
    asset_unique_id: str


def _dbt_candidates(unique_ids: list[str]) -> dict[str, list[_Candidate]]:
    """Every guarantee of an active or proposed contract version that came from these tests, with
    its asset's status and project. Two narrow queries: joining the asset and project into the
    10,000-row guarantee read cost more than reading the few hundred assets on their own."""
    rows: list[tuple[Any, ...]] = []
    statuses = [ContractVersion.Status.ACTIVE, ContractVersion.Status.PROPOSED]
    for start in range(0, len(unique_ids), BATCH * 5):
        rows += Guarantee.objects.filter(
            test_unique_id__in=unique_ids[start : start + BATCH * 5], version__status__in=statuses
        ).values_list("test_unique_id", "id", "asset_id", "kind", "column", "version__status")
    assets = {
        pk: (status != Asset.Status.RETIRED, project or "", asset_uid)
        for pk, status, project, asset_uid in Asset.objects.filter(pk__in={r[2] for r in rows}).values_list(
            "pk", "status", "project__name", "unique_id"
        )
    }
    found: dict[str, list[_Candidate]] = defaultdict(list)
    for uid, pk, asset_id, kind, column, version_status in rows:
        ref = GRef(pk, asset_id, kind, column, version_status == ContractVersion.Status.ACTIVE)
        found[uid].append(_Candidate(ref, *assets[asset_id]))
    return found


def _current_assets(project: str, candidates: dict[str, list[_Candidate]]) -> set[int]:
    """Assets the project's latest sync maps its nodes to: where a node lives today."""
    if not project:
        return set()
    uids = {c.asset_unique_id for options in candidates.values() for c in options if c.asset_unique_id}
    return set(
        AssetNode.objects.filter(project__name=project, unique_id__in=uids).values_list("asset_id", flat=True)
    )


@dataclass
class _DbtChooser:
    """Chooses, for one test, the live asset of the project that produced the run."""

    project: str
    hint: Asset | None
    current: set[int]
    hint_used: bool = False

    def choose(self, options: list[_Candidate]) -> tuple[GRef | None, str]:
        live = [c for c in options if c.asset_live]
        if not live:
            return None, "only retired assets carry this test: sync the project's current manifest"
        own = [c for c in live if c.project == self.project] if self.project else []
        by_asset: dict[int, GRef] = {}
        for candidate in own or live:
            kept = by_asset.get(candidate.ref.asset_id)
            if kept is None or (not kept.active and candidate.ref.active):
                by_asset[candidate.ref.asset_id] = candidate.ref  # the active version's guarantee first
        if len(by_asset) == 1:
            return next(iter(by_asset.values())), ""
        if self.hint is not None and self.hint.pk in by_asset:
            self.hint_used = True
            return by_asset[self.hint.pk], ""
        current = [ref for asset_id, ref in by_asset.items() if asset_id in self.current]
        if len(current) == 1:
            return current[0], ""
        return None, f"{len(by_asset)} live assets carry this test; give asset= to choose one"


def _sources_read_from_other_projects(
    parsed: ParsedResults, candidates: dict[str, list[_Candidate]]
) -> dict[str, str]:
    """Freshness results of sources that read another project's model: that model's contract is
    its producer's, so a reader's freshness rule has no guarantee to check there (one query)."""
    uids = [c.name for c in parsed.checks if c.check_type == "freshness" and c.name not in candidates]
    if not uids:
        return {}
    nodes = AssetNode.objects.filter(unique_id__in=uids).exclude(asset__project__isnull=True)
    return {
        uid: f"this source reads {relation}, a model of project {project}: a reader's freshness rule is "
        "not part of that model's contract, so there is no guarantee to check"
        for uid, relation, project, resource in nodes.values_list(
            "unique_id", "asset__relation", "asset__project__name", "asset__resource_type"
        )
        if resource != Asset.Type.SOURCE
    }


def _dbt_unmatched_reason(check: CheckOutcome) -> str:
    if (check.unique_id or "").startswith("unit_test."):
        return "a dbt unit test checks model logic, not a guarantee of the contract"
    if check.check_type == "freshness":
        return "no synced source declares a freshness rule under this unique_id (sync the manifest first)"
    return "no synced contract has a guarantee from this dbt test (sync the manifest first)"


def match_dbt(
    parsed: ParsedResults, summary: IngestSummary, *, hint: Asset | None = None, project: str = ""
) -> dict[int, AssetChecks]:
    """dbt tests (and source freshness results) → guarantees by the test's unique_id (the synced
    manifest's), on the live asset of the project that produced the run — never the first hit: a
    retired asset never gets results, two live candidates leave the check unmatched unless
    ``asset=`` (``hint``) names one of them."""
    candidates = _dbt_candidates([c.unique_id for c in parsed.checks if c.unique_id])
    project = project or parsed.project
    chooser = _DbtChooser(project=project, hint=hint, current=_current_assets(project, candidates))
    read_elsewhere = _sources_read_from_other_projects(parsed, candidates)
    chosen: list[tuple[CheckOutcome, GRef]] = []
    for check in parsed.checks:
        options = candidates.get(check.unique_id or "", [])
        if options:
            guarantee, reason = chooser.choose(options)
        else:
            guarantee, reason = None, read_elsewhere.get(check.name) or _dbt_unmatched_reason(check)
        if guarantee is None:
            summary.unmatched.append(unmatched_entry(check, reason))
        else:
            chosen.append((check, guarantee))
    assets = (
        Asset.objects.filter(pk__in={g.asset_id for _, g in chosen}).select_related("owner_team").in_bulk()
    )
    grouped: dict[int, AssetChecks] = {}
    for check, guarantee in chosen:
        grouped.setdefault(guarantee.asset_id, AssetChecks(asset=assets[guarantee.asset_id])).checks.append(
            (check, guarantee)
        )
    if hint is not None and not chooser.hint_used:
        summary.warnings.append(_hint_unused(hint))
    return grouped


def _hint_unused(hint: Asset) -> str:
    return (
        f"asset={hint.relation} was not used: every check it could have placed was placed by the "
        "result file itself (or matched nothing the asset carries)."
    )


@dataclass
class _TableChooser:
    """Chooses the asset of a GX / Soda / generic check: the asset it names, else the one live
    asset its table names, else the ``asset=`` of the upload when it is one of the candidates or
    the table names no known asset."""

    candidates: dict[str, list[Asset]]
    hint: Asset | None
    refs: dict[str, Asset | None] = field(default_factory=dict)
    hint_used: bool = False

    def choose(self, check: CheckOutcome) -> tuple[Asset | None, str]:
        if check.asset:
            if check.asset not in self.refs:
                self.refs[check.asset] = asset_find_by_ref(ref=check.asset)
            return self.refs[check.asset], f"asset {check.asset!r} is unknown"
        if not check.table:
            if self.hint is not None:
                self.hint_used = True
                return self.hint, ""
            return None, "names no table and no asset= was given with the upload"
        options = self.candidates.get(check.table, [])
        data_source = str(check.details.get("data_source") or "").lower()
        if len(options) > 1 and data_source:
            options = [a for a in options if a.database.lower() == data_source] or options
        if len(options) == 1:
            return options[0], ""
        if self.hint is not None and (not options or self.hint.pk in {a.pk for a in options}):
            # A table no asset is named after (a dataframe, a view) is the hint's; among several
            # candidates the hint chooses, but never one the table does not name.
            self.hint_used = True
            return self.hint, ""
        if not options:
            return None, f"table {check.table!r} matches no asset"
        names = ", ".join(a.relation for a in options)
        return None, f"table {check.table!r} matches several assets: {names}; give asset= to choose one"


def match_by_table(
    parsed: ParsedResults, summary: IngestSummary, hint: Asset | None
) -> dict[int, AssetChecks]:
    """GX / Soda / generic checks → assets by the table they name, an asset reference, or the hint."""
    tables = {c.table for c in parsed.checks if c.table and not c.asset}
    chooser = _TableChooser(candidates=assets_for_tables(tables=tables), hint=hint)
    grouped: dict[int, AssetChecks] = {}
    for check in parsed.checks:
        asset, reason = chooser.choose(check)
        if asset is None:
            summary.unmatched.append(unmatched_entry(check, reason))
            continue
        grouped.setdefault(asset.pk, AssetChecks(asset=asset)).checks.append((check, None))
    if hint is not None and not chooser.hint_used and parsed.checks:
        summary.warnings.append(_hint_unused(hint))
    link_guarantees(grouped)
    return grouped


def link_guarantees(grouped: dict[int, AssetChecks]) -> None:
    """Link checks to the asset's guarantees: by name/unique_id for generic files, by kind and
    column otherwise."""
    versions = {b.asset.active_version_id for b in grouped.values() if b.asset.active_version_id}
    by_version: dict[int, list[Guarantee]] = defaultdict(list)
    for g in Guarantee.objects.filter(version_id__in=versions):
        by_version[g.version_id].append(g)
    for bucket in grouped.values():
        guarantees = by_version.get(bucket.asset.active_version_id or -1, [])
        index = guarantee_index(guarantees)
        bucket.checks = [(check, _guarantee_for(check, guarantees, index)) for check, _ in bucket.checks]


def _guarantee_for(
    check: CheckOutcome, guarantees: list[Guarantee], index: dict[str, Guarantee]
) -> Guarantee | None:
    ref = check.guarantee or check.unique_id
    guarantee = index.get(ref.lower()) if ref else None
    if guarantee is None and check.column:
        kind = _kind_for_check(check)
        same = [
            g
            for g in guarantees
            if g.kind == kind and g.column.lower() == check.column.lower() and _arguments_agree(check, g)
        ]
        guarantee = same[0] if len(same) == 1 else None
    return guarantee
