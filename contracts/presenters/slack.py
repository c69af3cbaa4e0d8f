"""Slack Block Kit messages, one builder per kind of notice (no ORM: they read the context the
emails are rendered from, already loaded). Their buttons are the emails' signed answer links:
the same pages (GET confirms, POST records), bound to the same team and answer revision.

Every value is escaped for mrkdwn and every text cut to Block Kit's limits by the pieces in
``tessera_site.lib.slack``; lists longer than a message can hold end with "and N more".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from tessera_site.lib.slack import (
    Block,
    actions,
    button,
    context,
    divider,
    header,
    link,
    message,
    section,
)
from tessera_site.lib.slack import mrkdwn_escape as esc

REASONS_SHOWN = 10
DIGEST_ITEMS_MAX = 15  # 3 blocks each, plus the header, intro and footer: under 50 blocks
LIST_ITEMS_MAX = 40
BUTTON_STYLES = {"approved": "primary", "blocked": "danger"}
RESOLVED_WORDS = {
    "published": "published",
    "forced": "force-published",
    "expired": "expired",
    "withdrawn": "withdrawn",
    "superseded": "superseded",
}

Message = dict[str, Any]


def _bullets(items: Sequence[object], *, limit: int = REASONS_SHOWN, empty: str = "") -> str:
    shown = [f"• {esc(item)}" for item in items[:limit]]
    if len(items) > limit:
        shown.append(f"• _and {len(items) - limit} more_")
    return "\n".join(shown) or empty


def _slugs(teams: Iterable[Any]) -> str:
    return ", ".join(esc(t.slug) for t in teams) or "no other team"


def _when(moment: dt.datetime | dt.date | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, dt.datetime):
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"{moment:%Y-%m-%d}"


def _versions(ctx: dict[str, Any]) -> str:
    if ctx.get("base_semver"):
        return f": version {esc(ctx['base_semver'])} → {esc(ctx.get('proposed_semver') or '?')}"
    return ""


def _asset_link(ctx: dict[str, Any]) -> str:
    asset = ctx["asset"]
    return f"*{link(ctx['proposal_url'], asset.display_name)}* (`{esc(asset.relation)}`)"


def _change_lines(ctx: dict[str, Any]) -> list[str]:
    """What the change does to the relation, and whether it is live already."""
    asset, change = ctx["asset"], ctx.get("relation_change") or {}
    lines = []
    if change.get("kind") == "removed":
        lines.append(f":no_entry: `{esc(asset.relation)}` is being removed. Queries that read it will fail.")
    elif change.get("kind") == "moved":
        lines.append(f":truck: `{esc(asset.relation)}` moves to `{esc(change.get('to', ''))}`.")
    if ctx.get("deployed"):
        lines.append(
            ":warning: *Already deployed*: the change is live in the warehouse; the contract stays at "
            f"version {esc(ctx.get('base_semver') or '?')} until every team has answered."
        )
    else:
        lines.append("Proposed from CI before merge: nothing is deployed yet.")
    return lines


def _answer_buttons(ctx: dict[str, Any], links: Sequence[dict[str, str]], team: Any) -> Block:
    """Approve / Need time / Block (the signed links of this team) and the proposal's page."""
    proposal, asset = ctx["proposal"], ctx["asset"]
    elements = [
        button(
            text=item["label"],
            url=item["url"],
            action_id=f"answer-{proposal.pk}-{item['action']}",
            style=BUTTON_STYLES.get(item["action"], ""),
            label=f"{item['label']} #{proposal.pk} {asset.name} for {team.slug}",
        )
        for item in links
    ]
    elements.append(
        button(text="Open proposal", url=ctx["proposal_url"], action_id=f"open-proposal-{proposal.pk}")
    )
    return actions(*elements, block_id=f"answers-{proposal.pk}-{team.pk}")


def _open_button(ctx: dict[str, Any]) -> Block:
    proposal = ctx["proposal"]
    return actions(
        button(text="Open proposal", url=ctx["proposal_url"], action_id=f"open-proposal-{proposal.pk}"),
        block_id=f"proposal-{proposal.pk}",
    )


# --- proposals -----------------------------------------------------------------------------------
def proposal_opened_message(ctx: dict[str, Any]) -> Message:
    """To a required team: what changes, why it breaks, who else is asked, the deadline, buttons."""
    proposal, team, owner = ctx["proposal"], ctx["team"], ctx["owner"]
    intro = f"*{esc(owner.slug)}* proposes a breaking change to {_asset_link(ctx)}{_versions(ctx)}."
    blocks = [
        header(f"Your answer is needed: {ctx['asset'].display_name} (proposal #{proposal.pk})"),
        section("\n".join([intro, *_change_lines(ctx)])),
        section("*Why it is breaking*\n" + _bullets(ctx.get("reasons") or [], empty="_no reasons recorded_")),
        section(
            f"*Also asked:* {_slugs(ctx.get('other_teams') or [])}\n"
            f"*Answer by:* {_when(proposal.deadline)} (the proposal expires then)"
        ),
        _answer_buttons(ctx, ctx["links"], team),
        context(f"For {esc(team.slug)}. Each button opens a confirmation page first."),
    ]
    return message(
        text=f"{owner.slug} proposes a breaking change to {ctx['asset'].display_name}: {team.slug}'s answer is needed",
        blocks=blocks,
    )


def proposal_informed_message(ctx: dict[str, Any]) -> Message:
    """To an informed team: what changes and why no answer is needed from it."""
    team, owner, impact = ctx["team"], ctx["owner"], ctx["impact"]
    readers = [
        f"{reader.get('name', '')}: {', '.join(reader.get('columns') or [])}"
        for reader in impact.readers or []
    ]
    blocks = [
        header(f"Heads-up: {ctx['asset'].display_name} changes"),
        section(
            f"*{esc(owner.slug)}* proposes a breaking change to {_asset_link(ctx)}.\n"
            f"No answer is needed from *{esc(team.slug)}*: {esc(impact.reason)}"
        ),
        section("*What changes*\n" + _bullets(ctx.get("reasons") or [], empty="_no reasons recorded_")),
    ]
    if readers:
        blocks.append(section("*Your models that read it*\n" + _bullets(readers)))
    blocks.append(_open_button(ctx))
    return message(text=f"{owner.slug} changes {ctx['asset'].display_name} (no answer needed)", blocks=blocks)


def answer_recorded_message(ctx: dict[str, Any]) -> Message:
    """To the producer team: one consumer's answer and where every team stands."""
    proposal, ack = ctx["proposal"], ctx["ack"]
    ready = f" (ready by {_when(ack.ready_by)})" if ack.ready_by else ""
    lines = [
        f"*{esc(ack.team.slug)}* answered *{esc(ack.get_answer_display())}*{esc(ready)} on "
        f"proposal #{proposal.pk} for {_asset_link(ctx)}{_versions(ctx)}."
    ]
    if ack.reason:
        lines.append(f"Reason: _{esc(ack.reason)}_")
    standing = [
        f"{a.team.slug}: {a.get_answer_display()}"
        + (f" (ready by {_when(a.ready_by)})" if a.ready_by else "")
        for a in ctx.get("answers") or []
    ] + [f"{t.slug}: no answer yet" for t in ctx.get("waiting") or []]
    blocks = [
        header(f"{ack.team.slug} answered: {ack.get_answer_display()}"),
        section("\n".join(lines)),
        section("*Answers so far*\n" + _bullets(standing, limit=LIST_ITEMS_MAX)),
        context(f"Proposal status: *{esc(proposal.get_status_display())}*"),
        _open_button(ctx),
    ]
    return message(
        text=f"{ack.team.slug} answered {ack.get_answer_display()} on proposal #{proposal.pk}", blocks=blocks
    )


def _resolution_line(ctx: dict[str, Any]) -> str:
    proposal, owner, active = ctx["proposal"], ctx["owner"], esc(ctx.get("active_semver") or "?")
    reason = esc(proposal.resolution_reason or "")
    return {
        "published": f"Every required team approved. Version {active} is now the active contract.",
        "forced": f"*{esc(owner.slug)}* published version {active} without every approval.\nReason: _{reason}_",
        "expired": f"The deadline passed before every team approved. The contract stays at version {active}.",
        "withdrawn": f"{reason or esc(owner.slug) + ' withdrew the change.'} The contract stays at version {active}.",
        "superseded": f"{reason} The active contract is version {active}; there is nothing left to answer.",
    }.get(proposal.status, reason)


def proposal_resolved_message(ctx: dict[str, Any]) -> Message:
    """To the producer and every required team once a proposal is closed."""
    proposal, asset = ctx["proposal"], ctx["asset"]
    word = RESOLVED_WORDS.get(proposal.status, proposal.get_status_display())
    blocks = [
        header(f"Proposal #{proposal.pk} {word}: {asset.display_name}"),
        section(
            f"Proposal #{proposal.pk} for {_asset_link(ctx)} by *{esc(ctx['owner'].slug)}* is now "
            f"*{esc(proposal.get_status_display())}*.\n{_resolution_line(ctx)}"
        ),
        section("*What changed*\n" + _bullets(ctx.get("reasons") or [], empty="_no reasons recorded_")),
        _open_button(ctx),
    ]
    return message(text=f"Proposal #{proposal.pk} for {asset.display_name} is {word}", blocks=blocks)


def proposal_expiring_message(ctx: dict[str, Any]) -> Message:
    """To a required team whose answer is still missing, before the deadline passes."""
    proposal, team, asset = ctx["proposal"], ctx["team"], ctx["asset"]
    blocks = [
        header(f"Proposal #{proposal.pk} expires soon: {asset.display_name}"),
        section(
            f"*{esc(team.slug)}* has not answered *{esc(ctx['owner'].slug)}*'s breaking change to "
            f"{_asset_link(ctx)}{_versions(ctx)}.\n*Deadline:* {_when(proposal.deadline)}. "
            "Without every approval by then the proposal expires and the change is not published."
        ),
        section("*Why it is breaking*\n" + _bullets(ctx.get("reasons") or [], empty="_no reasons recorded_")),
        _answer_buttons(ctx, ctx["links"], team),
        context(f"For {esc(team.slug)}. Each button opens a confirmation page first."),
    ]
    return message(text=f"Proposal #{proposal.pk} for {asset.display_name} expires soon", blocks=blocks)


def reminder_digest_message(
    *, team: Any, items: Sequence[dict[str, Any]], today: dt.date, team_url: str
) -> Message:
    """The daily digest: each open proposal still missing the team's answer, with its buttons."""
    count = len(items)
    blocks = [
        header(f"{count} proposal{'s' if count != 1 else ''} wait for {team.slug}'s answer"),
        context(f"Reminder of {_when(today)}. Each button opens a confirmation page first."),
    ]
    for item in items[:DIGEST_ITEMS_MAX]:
        deployed = " :warning: *already deployed*" if item.get("deployed") else ""
        blocks += [
            divider(),
            section(
                f"{_asset_link(item)} by *{esc(item['owner'].slug)}*{_versions(item)}{deployed}\n"
                f"Answer by {_when(item['proposal'].deadline)}\n{_bullets(item.get('reasons') or [], limit=3)}"
            ),
            _answer_buttons(item, item["links"], team),
        ]
    if count > DIGEST_ITEMS_MAX:
        blocks.append(section(f"_and {count - DIGEST_ITEMS_MAX} more:_ {link(team_url, 'all of them')}"))
    return message(text=f"{count} proposal(s) wait for {team.slug}'s answer", blocks=blocks)


# --- assets, audits, deprecations -------------------------------------------------------------------
def _list_sections(lines: Sequence[str], *, more_url: str, more_label: str) -> list[Block]:
    """One section per line (each under the text limit), at most LIST_ITEMS_MAX, then a link."""
    blocks = [section(line) for line in lines[:LIST_ITEMS_MAX]]
    if len(lines) > LIST_ITEMS_MAX:
        blocks.append(section(f"_and {len(lines) - LIST_ITEMS_MAX} more:_ {link(more_url, more_label)}"))
    return blocks


def assets_retired_message(*, team: Any, items: Sequence[dict[str, Any]], team_url: str) -> Message:
    """To a consumer team: assets it is registered on are gone from their project's manifest."""
    lines = []
    for item in items:
        asset = item["asset"]
        use = f"\nYour use: {esc('; '.join(item['purposes']))}" if item.get("purposes") else ""
        lines.append(
            f"{link(item['asset_url'], asset.display_name)} (`{esc(asset.relation)}`) by "
            f"*{esc(item['owner'].slug)}*{use}"
        )
    blocks = [
        header(f"{len(items)} asset{'s' if len(items) != 1 else ''} {team.slug} reads retired"),
        section(
            "Gone from the last manifest synced, so Tessera marked them retired. Queries that select "
            "from them may stop working once the owner drops the relation."
        ),
        *_list_sections(lines, more_url=team_url, more_label="the team's page"),
    ]
    return message(text=f"Assets {team.slug} reads were retired", blocks=blocks)


def audit_failures_message(
    *, team: Any, runs: Sequence[dict[str, Any]], since: dt.datetime, team_url: str
) -> Message:
    """The daily digest of failed audits of the assets a team uses."""
    lines = [
        f"{link(run['url'], run['asset__relation'])} (owned by *{esc(run['asset__owner_team__slug'])}*): "
        f"{run['failed']} of {run['checked']} checks failed in the {esc(run['tool'])} run at {_when(run['run_at'])}"
        for run in runs
    ]
    blocks = [
        header(f"Failed audits of assets {team.slug} uses"),
        context(f"Since {_when(since)}. At most one of these digests a day."),
        *_list_sections(lines, more_url=team_url, more_label="the team's page"),
    ]
    return message(text=f"{len(runs)} failed audit(s) of assets {team.slug} uses", blocks=blocks)


def deprecation_reminder_message(
    *,
    team: Any,
    model: str,
    version: str,
    deprecation_date: dt.date,
    days_left: int,
    campaign_url: str,
    latest_version: str = "",
    readers: Sequence[str] = (),
) -> Message:
    """To a team still reading a deprecated model version: the date, what to move to, the campaign."""
    when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
    move = f" Move to version {esc(latest_version)}." if latest_version else ""
    blocks = [
        header(f"{model} v{version} is deprecated {when}"),
        section(
            f"*{esc(team.slug)}* still reads {link(campaign_url, f'{model} v{version}')}, deprecated on "
            f"*{_when(deprecation_date)}*.{move} After that date the version may be removed."
        ),
    ]
    if readers:
        blocks.append(
            section("*Your models that still read it*\n" + _bullets(list(readers), limit=LIST_ITEMS_MAX))
        )
    blocks.append(
        actions(
            button(text="Open the campaign", url=campaign_url, action_id="open-campaign", style="primary"),
            block_id=f"deprecation-{model}-{version}",
        )
    )
    return message(text=f"{model} v{version} is deprecated {when}: {team.slug} still reads it", blocks=blocks)


def deprecation_reminder_for(ctx: dict[str, Any]) -> Message:
    """The reminder built from the deprecation email's context (``campaign``, ``asset`` — the
    deprecated version —, ``team``, ``models`` still reading it, ``latest``, ``days_left``,
    ``campaign_url``), so the email and the Slack message say the same."""
    asset, latest = ctx["asset"], ctx.get("latest")
    return deprecation_reminder_message(
        team=ctx["team"],
        model=asset.name,
        version=str(asset.model_version),
        deprecation_date=ctx["campaign"].deprecation_date,
        days_left=ctx["days_left"],
        campaign_url=ctx["campaign_url"],
        latest_version=str(latest.model_version) if latest else "",
        readers=list(ctx.get("models") or []),
    )
