"""After an audit: publish what the publish gate held, once the gate says publish."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from audits.models import AuditRun
from audits.task_refs import RELEASE_HELD_PUBLISHES
from contracts.models import Asset
from contracts.services.proposals.publishing import proposals_release_held
from contracts.services.versions import version_release_held
from tessera_site.lib.enqueue import enqueue_on_commit

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


def release_held_on_commit(runs: list[AuditRun]) -> None:
    """A new audit may be what the publish gate waited for: once it is committed, retry what the
    gate held for assets that require a passing audit (the others pay nothing)."""
    asset_ids = sorted({run.asset_id for run in runs if run.asset.requires_passing_audit})
    if not asset_ids:
        return

    enqueue_on_commit(RELEASE_HELD_PUBLISHES, asset_ids)


def audit_release_held(*, asset_ids: Iterable[int], actor: Actor | None = None) -> list[str]:
    """Publish what the gate held for these assets (approved, deployed proposals; versions a sync
    held) when it now says publish. Returns what was published; repeating it publishes nothing more."""
    released: list[str] = []
    for asset in Asset.objects.filter(pk__in=set(asset_ids), requires_passing_audit=True).order_by("pk"):
        for proposal in proposals_release_held(asset=asset, actor=actor):
            released.append(f"{asset.relation}: proposal #{proposal.pk} published")
        version = version_release_held(asset=asset, actor=actor)
        if version is not None:
            released.append(f"{asset.relation}: v{version.semver} published")
    return released
