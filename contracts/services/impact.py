"""Consumer-aware impact: which consumer teams a breaking change asks, and which it only informs.

A team is asked (required) when its models read a column or guarantee the change touches, or
when its usage is unknown: no model of it that Tessera knows reads the asset (a BI tool, a
notebook, a project not synced here), a model without compiled SQL, SQL that could not be
parsed or qualified, or ``SELECT *``. Every other consumer team is informed: told, shown why,
not asked to answer. An asset asks everyone with ``meta.tessera.ask: all`` (default
``affected``).

``impact_decide`` is the rule, pure; ``proposal_impact_assess`` gathers its inputs and
``proposal_impact_record`` keeps the outcome with the proposal (the snapshot the pages show).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from contracts.models import (
    Asset,
    ColumnUsage,
    ExposureAsset,
    OutboundEmail,
    Proposal,
    ProposalImpact,
    Registration,
    Team,
)
from contracts.presenters import slack as slack_blocks
from contracts.services.notices import Notice, notices_send_each
from contracts.services.outbox import outbox_record
from tessera_site.lib.urls import absolute_url

ASK_ALL = "all"
ASK_AFFECTED = "affected"


@dataclass(slots=True)
class TeamImpact:
    team_id: int
    required: bool
    reason: str
    readers: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class ImpactAssessment:
    teams: dict[int, TeamImpact] = field(default_factory=dict)

    @property
    def required_ids(self) -> list[int]:
        return sorted(t.team_id for t in self.teams.values() if t.required)

    @property
    def informed_ids(self) -> list[int]:
        return sorted(t.team_id for t in self.teams.values() if not t.required)


def changed_columns(verdict: Mapping[str, Any]) -> tuple[set[str], bool]:
    """The columns the breaking changes touch, and whether one touches the whole relation (a
    relation removed or moved, a guarantee over no single column): then every reader is touched."""
    columns: set[str] = set()
    whole = False
    for change in verdict.get("breaking_changes") or ():
        column = change.get("column")
        if column:
            columns.add(str(column).lower())
        else:
            whole = True
    return columns, whole


def ask_policy(asset: Asset) -> str:
    tessera = (asset.meta or {}).get("tessera") if isinstance(asset.meta, dict) else None
    value = str((tessera or {}).get("ask") or ASK_AFFECTED).strip().lower()
    return ASK_ALL if value == ASK_ALL else ASK_AFFECTED


def impact_decide(
    *,
    team_ids: Iterable[int],
    readers_by_team: Mapping[int, list[dict[str, Any]]],
    changed: set[str],
    whole_relation: bool,
    ask: str = ASK_AFFECTED,
) -> ImpactAssessment:
    """The rule (module docstring). ``readers``: one dict per model of the team reading the
    asset: ``name``, ``columns`` {column: clauses}, ``star``, ``known``, ``message``."""
    out = ImpactAssessment()
    for team_id in team_ids:
        readers = [dict(r) for r in readers_by_team.get(team_id, ())]
        for reader in readers:
            columns = reader.get("columns") or {}
            everything = whole_relation or bool(reader.get("star"))
            reader["touched"] = sorted(columns if everything else changed & set(columns))
        reasons = _ask_reasons(readers, whole_relation=whole_relation)
        if ask == ASK_ALL:
            reasons.insert(0, "The asset asks every consumer team (meta.tessera.ask: all).")
        if reasons:
            out.teams[team_id] = TeamImpact(team_id, True, " ".join(reasons), readers)
        else:
            out.teams[team_id] = TeamImpact(team_id, False, _informed_reason(readers, changed), readers)
    return out


def _ask_reasons(readers: list[dict[str, Any]], *, whole_relation: bool) -> list[str]:
    if not readers:
        return [
            "Usage unknown: no dbt model of this team that Tessera knows reads it (a BI tool, a "
            "notebook or a project not synced here), so it cannot be shown unaffected."
        ]
    reasons = []
    for reader in readers:
        name = reader.get("name", "?")
        if not reader.get("known", True):
            reasons.append(f"Usage unknown for {name}: {reader.get('message') or 'no reason recorded'}")
        elif reader.get("star"):
            reasons.append(f"{name} selects {reader['star']} from it, so it reads every column.")
        elif reader["touched"]:
            where = ", ".join(f"{col} ({', '.join(reader['columns'][col])})" for col in reader["touched"])
            scope = "The change concerns the whole relation; " if whole_relation else ""
            reasons.append(f"{scope}{name} reads {where}.")
    return reasons


def _informed_reason(readers: list[dict[str, Any]], changed: set[str]) -> str:
    names = ", ".join(r.get("name", "?") for r in readers)
    read = sorted({c for r in readers for c in (r.get("columns") or {})})
    changed_text = ", ".join(sorted(changed)) or "no column"
    read_text = ", ".join(read) if read else "no column of it"
    return f"Informed, not asked: its models ({names}) read {read_text}; the change touches {changed_text}."


# --- gathering and recording ------------------------------------------------------------------------
def readers_by_team(*, asset: Asset) -> dict[int, list[dict[str, Any]]]:
    """Every live model reading ``asset``, grouped by the model's owner team."""
    out: dict[int, list[dict[str, Any]]] = {}
    usages = (
        ColumnUsage.objects.filter(upstream=asset, consumer__status=Asset.Status.ACTIVE)
        .select_related("consumer")
        .order_by("consumer__name")
    )
    for usage in usages:
        consumer = usage.consumer
        out.setdefault(consumer.owner_team_id, []).append(
            {
                "asset_id": consumer.pk,
                "name": consumer.display_name,
                "relation": consumer.relation,
                "columns": usage.columns,
                "star": usage.star,
                "known": usage.known,
                "message": usage.message,
            }
        )
    for team_id, reader in exposure_readers(asset=asset):
        out.setdefault(team_id, []).append(reader)
    return out


def exposure_readers(*, asset: Asset) -> list[tuple[int, dict[str, Any]]]:
    """The dbt exposures reading ``asset`` (a dashboard, a notebook...), as readers of their team:
    their usage is unknown unless their ``meta.tessera.columns`` lists what they read of it."""
    out = []
    for link in (
        ExposureAsset.objects.filter(asset=asset).select_related("exposure").order_by("exposure__name")
    ):
        exposure = link.exposure
        columns = _exposure_columns(exposure.columns, link) if link.direct else None
        kind = f"{exposure.type} exposure" if exposure.type else "exposure"
        via = "" if link.direct else " (through the models it reads)"
        out.append(
            (
                exposure.team_id,
                {
                    "asset_id": None,
                    "exposure": exposure.unique_id,
                    "name": f"{exposure.display_name} ({kind})",
                    "relation": "",
                    "url": exposure.url,
                    "columns": {c: ["exposure"] for c in columns or ()},
                    "star": "",
                    "known": columns is not None,
                    "message": ""
                    if columns is not None
                    else f"a dbt {kind} outside dbt{via}; its meta.tessera.columns does not list what it reads",
                },
            )
        )
    return out


def _exposure_columns(listed: Any, link: ExposureAsset) -> list[str] | None:
    if not isinstance(listed, dict):
        return None
    for key in (link.node, link.node.rsplit(".", 1)[-1], "*"):
        if key and key in listed:
            return [str(c) for c in listed[key]]
    return None


def proposal_impact_assess(*, asset: Asset, verdict: Mapping[str, Any]) -> ImpactAssessment:
    """Who a breaking change of ``asset`` asks and who it informs, from the stored column usage."""
    team_ids = sorted(
        set(Registration.objects.filter(asset=asset).values_list("team_id", flat=True))
        - {asset.owner_team_id}
    )
    changed, whole = changed_columns(verdict)
    return impact_decide(
        team_ids=team_ids,
        readers_by_team=readers_by_team(asset=asset),
        changed=changed,
        whole_relation=whole,
        ask=ask_policy(asset),
    )


def latest_move_impact_assess(
    *, asset: Asset, change: Mapping[str, Any], verdict: Mapping[str, Any]
) -> ImpactAssessment:
    """A model's latest version moved (``change``: services.sync.latest): the teams whose refs are
    unpinned (``change["teams"]``) read the new latest from their next build, so they are asked
    or informed by what their models read of the version they read now (``change["reads"]``)."""
    reads = Asset(pk=int(change.get("reads") or 0))
    changed, whole = changed_columns(verdict)
    return impact_decide(
        team_ids=[int(t) for t in change.get("teams") or ()],
        readers_by_team=readers_by_team(asset=reads),
        changed=changed,
        whole_relation=whole,
        ask=ask_policy(asset),
    )


def proposal_impact_record(*, proposal: Proposal, assessment: ImpactAssessment) -> list[Team]:
    """Keep the assessment with the proposal; returns the required teams (ordered by slug)."""
    ProposalImpact.objects.filter(proposal=proposal).delete()
    ProposalImpact.objects.bulk_create(
        [
            ProposalImpact(
                proposal=proposal,
                team_id=impact.team_id,
                role=ProposalImpact.Role.REQUIRED if impact.required else ProposalImpact.Role.INFORMED,
                reason=impact.reason[:5000],
                readers=impact.readers,
            )
            for impact in assessment.teams.values()
        ]
    )
    return list(Team.objects.filter(pk__in=assessment.required_ids).order_by("slug"))


def proposal_impact_apply(*, proposal: Proposal, verdict: Mapping[str, Any]) -> list[Team]:
    """Assess and record who a newly opened proposal asks and informs; the informed teams are
    emailed once the proposal is committed. Returns the required teams."""
    change = proposal.relation_change or {}
    if change.get("kind") == "latest_moved":  # services.sync.latest: the unpinned readers only
        assessment = latest_move_impact_assess(asset=proposal.asset, change=change, verdict=verdict)
    else:
        assessment = proposal_impact_assess(asset=proposal.asset, verdict=verdict)
    required = proposal_impact_record(proposal=proposal, assessment=assessment)
    if assessment.informed_ids:
        outbox_record(kind="email.proposal_informed", proposal_id=proposal.pk)
    return required


def proposal_informed_notify(*, proposal_id: int) -> list[OutboundEmail]:
    """To each informed team: what changes, why it is not asked, which of its models read what."""
    proposal = Proposal.objects.select_related("asset__owner_team", "base_version", "proposed_version").get(
        pk=proposal_id
    )

    def notice(impact: ProposalImpact) -> Notice:
        context = {
            "proposal": proposal,
            "asset": proposal.asset,
            "owner": proposal.asset.owner_team,
            "team": impact.team,
            "impact": impact,
            "reasons": (proposal.verdict or {}).get("reasons") or [],
            "proposal_url": absolute_url(proposal.get_absolute_url()),
        }
        return Notice(
            kind="proposal_informed",
            team=impact.team,
            dedupe_key=f"proposal-informed:{proposal.pk}:team:{impact.team_id}",
            email_kind="proposal_informed",
            email_context=context,
            slack=partial(slack_blocks.proposal_informed_message, context),
            proposal=proposal,
        )

    informed = proposal.impacts.filter(role=ProposalImpact.Role.INFORMED).select_related("team")
    return notices_send_each(notice(impact) for impact in informed)


# --- the CI check ---------------------------------------------------------------------------------
def check_impact(*, asset: Asset, verdict: Mapping[str, Any], slugs: Mapping[int, str]) -> ImpactAssessment:
    """The assessment a proposal would record, for the dry run (nothing written)."""
    assessment = proposal_impact_assess(asset=asset, verdict=verdict)
    for team_id, impact in assessment.teams.items():
        for reader in impact.readers:
            reader["team"] = slugs.get(team_id, "")
    return assessment


def check_impact_fields(assessment: ImpactAssessment | None) -> dict[str, Any]:
    """``informed_teams`` (with why) and ``downstream``: the models that would break and what they
    read, for the check's JSON and the CI report."""
    if assessment is None:
        return {"informed_teams": [], "downstream": []}
    informed = [
        {"team": next((r["team"] for r in t.readers), ""), "team_id": t.team_id, "reason": t.reason}
        for t in assessment.teams.values()
        if not t.required
    ]
    downstream = [
        {"model": r["name"], "relation": r["relation"], "team": r.get("team", ""),
         "touched": r["touched"], "reads": r["columns"], "star": r["star"], "known": r["known"],
         "message": r["message"]}
        for t in assessment.teams.values() if t.required
        for r in t.readers if r["touched"] or not r["known"]
    ]  # fmt: skip
    return {"informed_teams": informed, "downstream": downstream}
