"""Reading assets, their contract versions and consumers (no writes here).

An asset is addressed by a *ref*: its numeric id, the relation it names
(``core.main.dim_customers``, case and quotes ignored), the dbt ``unique_id`` of its producing
node, or the unique_id of another project's node that reads it (an AssetNode, e.g.
``source.marketing.core.dim_customers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, Q, QuerySet
from django.db.models.expressions import RawSQL

from contracts.compat import evaluate
from contracts.compat.serialize import spec_from_version
from contracts.compat.verdict import Verdict, parse_version
from contracts.domain import relation_name
from contracts.models import Asset, AssetNode, ContractVersion, Proposal, Registration, Team
from tessera_site.lib.errors import Unprocessable, not_found
from tessera_site.lib.validation import ascii_id


def _assets_base() -> QuerySet[Asset]:
    return Asset.objects.select_related("owner_team", "project", "active_version")


def asset_find(*, ref: str, queryset: QuerySet[Asset] | None = None) -> Asset | None:
    """The asset a ref names, or None. At most four small indexed queries."""
    qs = queryset if queryset is not None else _assets_base()
    ref = (ref or "").strip()
    if not ref:
        return None
    asset_id = ascii_id(ref)  # ASCII digits only: "٣" or "¹" is a name, never asset 3 or 1
    if asset_id is not None:
        return qs.filter(pk=asset_id).first()
    asset = qs.filter(relation=relation_name(*_split_relation(ref))).first()
    if asset is not None:
        return asset
    # Several assets can share a unique_id only across retirements; prefer the active one.
    asset = qs.filter(unique_id=ref).order_by("status", "-pk").first()
    if asset is not None:
        return asset
    asset_id = AssetNode.objects.filter(unique_id=ref).values_list("asset_id", flat=True).first()
    return qs.filter(pk=asset_id).first() if asset_id is not None else None


def _split_relation(ref: str) -> tuple[str | None, str | None, str]:
    parts = ref.split(".")
    if len(parts) >= 3:
        return ".".join(parts[:-2]), parts[-2], parts[-1]
    if len(parts) == 2:
        return None, parts[0], parts[1]
    return None, None, parts[0]


def asset_get(*, ref: str, queryset: QuerySet[Asset] | None = None) -> Asset:
    """Like asset_find, but a missing asset is NotFound."""
    asset = asset_find(ref=ref, queryset=queryset)
    if asset is None:
        raise not_found(f"Asset '{ref}' (by id, relation name or dbt unique_id)")
    return asset


# --- listing -------------------------------------------------------------------------------------
def _column_name_matches(term: str) -> RawSQL:
    """True when the asset's active contract has a column whose name contains ``term``.

    A JSON text search would also match descriptions and types; this looks at names only. On
    PostgreSQL each version's names are kept lower-cased, one a line, in ``search_column_names``
    (a stored generated column, migration 0014, trigram-indexed): a term without a line break can
    only match inside one line, i.e. inside one name, so ``LIKE`` over that text is exactly the
    per-name test, whatever the term's length (a term under 3 characters scans that narrow text
    instead of expanding every schema's JSON: ~0.5-1 s at 21,000 assets).
    """
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    # Table names come from model metadata, never from the request; the term is a parameter.
    table = Asset._meta.db_table
    versions = ContractVersion._meta.db_table
    if connection.vendor == "postgresql" and "\n" not in term:
        sql = (
            f"{table}.active_version_id IN (SELECT v.id FROM {versions} v "  # noqa: S608
            f"WHERE v.search_column_names LIKE %s ESCAPE '\\')"
        )
        return RawSQL(sql, (like,), output_field=BooleanField())  # noqa: S611
    if connection.vendor == "postgresql":  # a line break could match across two names: test each name
        sql = (
            f"EXISTS (SELECT 1 FROM {versions} v, jsonb_array_elements(v.columns) c "  # noqa: S608
            f"WHERE v.id = {table}.active_version_id AND lower(c->>'name') LIKE %s ESCAPE '\\')"
        )
        return RawSQL(sql, (like,), output_field=BooleanField())  # noqa: S611
    sql = (
        f"EXISTS (SELECT 1 FROM {versions} v, json_each(v.columns) c "  # noqa: S608
        f"WHERE v.id = {table}.active_version_id "
        f"AND lower(json_extract(c.value, '$.name')) LIKE %s ESCAPE '\\')"
    )
    return RawSQL(sql, (like,), output_field=BooleanField())  # noqa: S611


def asset_search_ids(search: str) -> set[int]:
    """The one asset search, for the API and the dashboard alike: an asset matches when its name,
    relation or unique_id contains the term, or a column of its active contract has a name that
    contains it (case-insensitive).

    Two plain queries, evaluated here, beat one OR across them: PostgreSQL then reads each
    schema once, and a caller's count and page reuse the ids.
    """
    term = search.strip()
    if not term:
        return set()
    # No ORDER BY (the model's default would sort every match): the ids go into a set.
    by_name = (
        Asset.objects.filter(
            Q(name__icontains=term) | Q(relation__icontains=term) | Q(unique_id__icontains=term)
        )
        .order_by()
        .values_list("pk", flat=True)
    )
    by_column = Asset.objects.filter(Q(_column_name_matches(term))).order_by().values_list("pk", flat=True)
    return set(by_name) | set(by_column)


def asset_list(
    *,
    search: str = "",
    team: str = "",
    project: str = "",
    resource_type: str = "",
    status: str = "",
    consumer: str = "",
) -> QuerySet[Asset]:
    """Assets matching the filters, with owner team, project and active version joined in, and
    the number of consumer teams annotated (``consumer_count``): no query per row."""
    if resource_type and resource_type not in Asset.Type.values:
        raise Unprocessable(
            f"Unknown asset type '{resource_type}'; expected one of {', '.join(Asset.Type.values)}"
        )
    if status and status not in Asset.Status.values:
        raise Unprocessable(
            f"Unknown asset status '{status}'; expected one of {', '.join(Asset.Status.values)}"
        )
    qs = _assets_base().defer(
        "active_version__columns", "active_version__guarantees", "active_version__verdict", "meta"
    )
    if team:
        qs = qs.filter(owner_team__slug=team)
    if project:
        qs = qs.filter(project__name=project)
    if resource_type:
        qs = qs.filter(resource_type=resource_type)
    if status:
        qs = qs.filter(status=status)
    if consumer:
        # A subquery, not a join: the join would also narrow the consumer count annotated below.
        qs = qs.filter(pk__in=Registration.objects.filter(team__slug=consumer).values("asset_id"))
    if search.strip():
        qs = qs.filter(pk__in=asset_search_ids(search))
    qs = qs.annotate(consumer_count=Count("registrations__team", distinct=True))
    return qs.order_by("relation")


# --- one asset -----------------------------------------------------------------------------------
def asset_consumers(*, asset: Asset) -> list[Registration]:
    return list(
        Registration.objects.filter(asset=asset).select_related("team").order_by("team__slug", "origin")
    )


def asset_open_proposal(*, asset: Asset) -> Proposal | None:
    return (
        Proposal.objects.filter(asset=asset, status__in=Proposal.OPEN_STATUSES)
        .select_related("proposed_version")
        .order_by("-created_at", "-id")
        .first()
    )


def asset_versions(*, asset: Asset) -> list[ContractVersion]:
    return list(
        ContractVersion.objects.filter(asset=asset)
        .defer("columns", "guarantees")
        .order_by("-major", "-minor", "-patch", "-id")
    )


def version_get(*, asset: Asset, ref: str) -> ContractVersion:
    """A version of ``asset`` by semver (``1.2.0``) or id; 404 when it is not this asset's."""
    ref = (ref or "").strip()
    qs = ContractVersion.objects.filter(asset=asset)
    version: ContractVersion | None
    if ref.isascii() and ref.isdigit():  # an id; one too long for a bigint names no version
        version_id = ascii_id(ref)
        version = qs.filter(pk=version_id).first() if version_id is not None else None
    else:
        try:
            major, minor, patch = parse_version(ref.removeprefix("v"))
        except ValueError:
            raise Unprocessable(
                f"'{ref}' is neither a version id nor a semantic version like 1.2.0"
            ) from None
        # A rejected proposal can share its semver with the version published later; the newest wins.
        version = qs.filter(major=major, minor=minor, patch=patch).order_by("-id").first()
    if version is None:
        raise not_found(f"Version '{ref}' of asset {asset.relation}")
    return version


@dataclass(slots=True)
class VersionDiff:
    base: ContractVersion
    target: ContractVersion
    verdict: Verdict


def version_diff(*, asset: Asset, base: ContractVersion, target: ContractVersion) -> VersionDiff:
    """The engine's diff and verdict of ``target`` against ``base`` under the asset's mode.

    Transitive modes also check the published versions that came before ``base``.
    """
    history: Sequence[tuple[str, Any]] = ()
    if asset.compatibility_mode.endswith("_transitive"):
        earlier = ContractVersion.objects.filter(
            asset=asset,
            status__in=[ContractVersion.Status.ACTIVE, ContractVersion.Status.SUPERSEDED],
            pk__lt=base.pk,
        ).order_by("pk")
        history = [(v.semver, spec_from_version(v)) for v in earlier]
    verdict = evaluate(
        old=spec_from_version(base),
        new=spec_from_version(target),
        mode=asset.compatibility_mode,
        history=history,
    )
    return VersionDiff(base=base, target=target, verdict=verdict)


def team_get(*, slug: str) -> Team:
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise not_found(f"Team '{slug}'")
    return team


def team_summary(*, team: Team) -> dict[str, Any]:
    """What a team owns and consumes, in a few queries."""
    owned = Asset.objects.filter(owner_team=team)
    counts = {row["status"]: row["n"] for row in owned.values("status").annotate(n=Count("id"))}
    consumes = (
        Registration.objects.filter(team=team)
        .select_related("asset", "asset__owner_team")
        .order_by("asset__relation", "origin")
    )
    members = team.memberships.select_related("user").order_by("user__username")
    return {
        "projects": list(team.projects.order_by("name").values_list("name", flat=True)),
        "owned_assets": {"active": counts.get("active", 0), "retired": counts.get("retired", 0)},
        "consumes": [
            {
                "asset_id": r.asset_id,
                "relation": r.asset.relation,
                "owner_team": r.asset.owner_team.slug,
                "origin": r.origin,
                "purpose": r.purpose,
            }
            for r in consumes
        ],
        "members": [{"username": m.user.get_username(), "role": m.role} for m in members],
    }
