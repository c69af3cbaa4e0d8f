"""When the warehouse moves on while a proposal is open, the question it asked changes.

A proposal asks the consumer teams about one specific change. This module holds what the
acknowledgment workflow (``contracts.services.proposals``) needs to follow the warehouse:

* the publish guard: a proposal never publishes a contract the warehouse does not have. A
  ``sync`` proposal publishes only while it is the contract the warehouse last reported
  (``Asset.deployed_hash``); a ``check`` proposal only when the sync of its merge brings exactly
  the checked contract.
* what changed since the previous question, when a new proposal replaces one that was open;
* which answers carry over to the new proposal.

How an answer carries over. A team's *part* of a change is the set of breaking changes that
touch what the team reads, each identified by (kind, column, guarantee, old value, new value) —
not by the reason's wording, and not by the compatible changes riding along. What the team reads
comes from the consumer-aware impact snapshot taken when each proposal opened (ProposalImpact,
SPEC §13): the breaking changes on columns its models read, plus those on the whole relation.
When its reads are unknown (no compiled SQL, unparsable SQL, ``SELECT *``, no dbt model) or no
snapshot exists, its part is every breaking change. When the new proposal asks a team about
exactly the same part as the one it replaces, the team's answer (approve, migrating with its
date, or block with its reason) still answers the question and is carried over, marked as such;
otherwise the team is asked again. A team that did not answer before is asked.

The sync step that compares each open proposal with what a sync brought is
``contracts.services.sync.follow``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from django.utils import timezone

from contracts.compat.diff.contract import diff_contracts
from contracts.compat.serialize import spec_from_version
from contracts.models import Acknowledgment, Asset, Proposal, ProposalImpact
from contracts.services.events import event_record

if TYPE_CHECKING:
    from contracts.domain import ContractSpec
    from tessera_site.lib.auth import Actor

MAX_LISTED = 50


def _change_key(change: dict[str, Any]) -> str:
    """A breaking change by what it is, whatever the words of its reason."""
    fields = {k: change.get(k) for k in ("kind", "column", "guarantee", "old", "new")}
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS, default=str).decode()


def _columns_read(impact: ProposalImpact | None) -> set[str] | None:
    """The columns a team's models read (lower case), or None when that is not known."""
    if impact is None or not impact.readers:
        return None
    read: set[str] = set()
    for reader in impact.readers:
        if not reader.get("known", True) or reader.get("star"):
            return None
        read.update(str(c).lower() for c in reader.get("columns") or {})
    return read


def team_part(*, proposal: Proposal, team_id: int) -> frozenset[str]:
    """The breaking changes of ``proposal`` that touch what ``team_id`` reads (module docstring)."""
    impact = ProposalImpact.objects.filter(proposal=proposal, team_id=team_id).first()
    read = _columns_read(impact)
    return frozenset(
        _change_key(c)
        for c in (proposal.verdict or {}).get("breaking_changes") or []
        if read is None or not c.get("column") or str(c["column"]).lower() in read
    )


def since_previous(*, previous: Proposal, spec: ContractSpec, verdict: dict[str, Any]) -> dict[str, Any]:
    """What changed between the contract ``previous`` asked about and ``spec``: the differences
    between the two proposed contracts, and which breaking changes are new or gone."""
    old_breaking = {_change_key(c): c for c in (previous.verdict or {}).get("breaking_changes") or []}
    new_breaking = {_change_key(c): c for c in verdict.get("breaking_changes") or []}
    differences: list[str] = []
    if previous.proposed_version_id:
        old_spec = spec_from_version(previous.proposed_version)
        differences = [c.reason for c in diff_contracts(old_spec, spec) if c.kind != "mode_changed"]
    return {
        "proposal": previous.pk,
        "version": previous.proposed_version.semver if previous.proposed_version_id else None,
        "differences": differences[:MAX_LISTED],
        "breaking_added": [c.get("reason", "") for k, c in new_breaking.items() if k not in old_breaking],
        "breaking_dropped": [c.get("reason", "") for k, c in old_breaking.items() if k not in new_breaking],
        "carried_over": [],
        "asked_again": [],
    }


def answers_carry_over(*, previous: Proposal, proposal: Proposal, actor: Actor | None) -> list[str]:
    """Copy to ``proposal`` the answers to ``previous`` of the teams whose part of the change is the
    same (recorded, with the answer carried from); returns the slugs of those teams."""
    required = set(proposal.required_teams.values_list("pk", flat=True))
    carried: list[str] = []
    now = timezone.now()
    for ack in Acknowledgment.objects.filter(proposal=previous).select_related("team").order_by("team__slug"):
        if ack.team_id not in required:
            continue
        if team_part(proposal=previous, team_id=ack.team_id) != team_part(
            proposal=proposal, team_id=ack.team_id
        ):
            continue
        Acknowledgment.objects.create(
            proposal=proposal,
            team=ack.team,
            answer=ack.answer,
            ready_by=ack.ready_by,
            reason=ack.reason,
            via=ack.via,
            answered_by_user=ack.answered_by_user,
            answered_by_key=ack.answered_by_key,
            answered_by_label=ack.answered_by_label,
            carried_from=ack,
            created_at=now,
            updated_at=now,
        )
        event_record(
            kind="proposal.answer_carried",
            actor=actor,
            team=ack.team,
            asset=proposal.asset,
            proposal=proposal,
            payload={
                "team": ack.team.slug,
                "answer": ack.answer,
                "from_proposal": previous.pk,
                "why": "the team's part of the change is the same as in the proposal it replaces",
            },
        )
        carried.append(ack.team.slug)
    return carried


def publish_refusal(*, proposal: Proposal, asset: Asset, deployed_hash: str | None = None) -> str | None:
    """Why ``proposal`` may not publish now, or None when its contract is the one deployed.

    ``deployed_hash`` is the contract a sync is bringing right now (a merge that may match a
    ``check`` proposal); without it, the contract the warehouse last reported is used.
    """
    deployed = deployed_hash if deployed_hash is not None else asset.deployed_hash
    if deployed and proposal.proposed_hash == deployed:
        return None
    if proposal.origin == Proposal.Origin.CHECK:
        return (
            f"Proposal #{proposal.pk} was checked before its merge, and no sync has brought the checked "
            "contract: it publishes only when the warehouse has exactly that contract."
        )
    if deployed and deployed == asset.content_hash:
        now = "the active contract again"
    elif deployed:
        now = "another contract"
    else:
        now = "no contract Tessera recorded"
    return (
        f"Proposal #{proposal.pk} proposes a contract the warehouse no longer has: the last sync "
        f"reported {now}. Publishing it would make the active contract one that is not deployed."
    )
