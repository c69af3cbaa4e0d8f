"""Proposals follow the warehouse, on real parts: the demo's real dbt manifests, PostgreSQL, a
Celery worker on Redis that runs every sync and sends every email, an SMTP server receiving them.

core's breaking variant opens proposals on dim_customers and fct_orders (both asked of marketing
and finance); then core deploys something else before every team has answered:

* the additive variant → dim_customers publishes 1.1.0 and the proposal is superseded: a late
  approval can no longer publish the stale 2.0.0;
* the normal build again → the proposals are withdrawn ("reverted by sync #N"), each team told once;
* the retyped variant (a different breaking change) → one open proposal, linked to the first, the
  teams asked again with the difference shown; the first email's links open the superseded page;
* a pull request checked before merge, then a merge that brings another contract → the checked
  contract is not published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlparse

import pytest
from django.test import Client

from contracts.factories import api_key_for
from contracts.models import Asset, ContractVersion, Proposal, SyncRun, Team
from contracts.services.apikeys import apikey_authenticate
from contracts.services.sync.check import sync_check
from tessera_site.lib.auth import Actor, actor_for_key
from tests.integration.e2e_setup import demo_teams, sync_and_wait
from testsupport.fixtures import WorkerHandle, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LINK = re.compile(r"https?://\S+/answer/[^\s/]+/")
DIM = "core.main.dim_customers"
CONSUMERS = ("marketing-analytics", "finance-analytics")


@dataclass
class Story:
    artifacts: object
    smtp: object
    worker: WorkerHandle
    producer: Actor
    teams: dict[str, Team]
    secrets: dict[str, str]

    def sync(self, manifest) -> SyncRun:
        return sync_and_wait(self.artifacts.read_bytes(manifest), self.producer, timeout=240)

    def mails(self, slug: str, subject: str) -> list[Message]:
        return [
            m
            for m in self.smtp.received()
            if f"{slug}@example.com" in (m["X-Envelope-To"] or "") and subject in _unfolded(m["Subject"])
        ]

    def wait_mails(self, subject: str, slugs=CONSUMERS) -> dict[str, list[Message]]:
        # Generous: on a loaded machine the one worker runs each sync's column-usage task first.
        wait_for(
            lambda: all(self.mails(s, subject) for s in slugs), timeout=300, message=f"emails {subject!r}"
        )
        self.worker.wait_idle()  # every task has run, and every task those queued: no duplicate is on its way
        return {s: self.mails(s, subject) for s in slugs}

    def answer_api(self, proposal: Proposal, slug: str, answer: str = "approved"):
        return Client(HTTP_AUTHORIZATION=f"Bearer {self.secrets[slug]}").post(
            f"/api/v1/proposals/{proposal.pk}/answers",
            {"team": slug, "answer": answer},
            content_type="application/json",
        )


def _unfolded(header: object) -> str:
    """A long header as sent is folded over several lines; read it as one."""
    return " ".join(str(header).split())


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


@pytest.fixture
def story(demo_artifacts, smtp_server, celery_worker) -> Story:
    teams = demo_teams(("data-platform", *CONSUMERS))
    secrets = {slug: api_key_for(team, scopes="read,write", name="ci")[1] for slug, team in teams.items()}
    producer = actor_for_key(apikey_authenticate(secrets["data-platform"]))
    built = Story(demo_artifacts, smtp_server, celery_worker, producer, teams, secrets)
    built.sync(demo_artifacts.manifests["core"])
    assert Asset.objects.get(relation=DIM).active_version.semver == "1.0.0"
    return built


def _open_dim() -> Proposal:
    return Proposal.objects.get(asset__relation=DIM, status__in=Proposal.OPEN_STATUSES)


def test_breaking_then_additive_then_every_approval_leaves_the_additive_contract_active(story):
    story.sync(story.artifacts.core_breaking_manifest)
    proposal = _open_dim()
    asked = story.wait_mails("Breaking change to dim_customers needs")
    marketing_link = urlparse(LINK.findall(_text(asked["marketing-analytics"][0]))[0]).path
    assert story.answer_api(proposal, "marketing-analytics").status_code == 200

    additive = story.sync(story.artifacts.core_additive_manifest)
    dim = Asset.objects.get(relation=DIM)
    assert dim.active_version.semver == "1.1.0"
    assert "preferred_channel" in [c["name"] for c in dim.active_version.columns]
    proposal.refresh_from_db()
    assert (
        proposal.status == Proposal.Status.SUPERSEDED and f"sync #{additive.pk}" in proposal.resolution_reason
    )

    # Every team approves: finance through the API, marketing through its email's link.
    late = story.answer_api(proposal, "finance-analytics")
    assert late.status_code == 409 and late.json()["error"] == "proposal_closed"
    page = Client().get(marketing_link)
    assert page.status_code == 410 and b"was superseded" in page.content

    dim.refresh_from_db()
    assert dim.active_version.semver == "1.1.0"  # the additive contract, never the stale 2.0.0
    assert not ContractVersion.objects.filter(asset=dim, major=2).exclude(status="rejected").exists()
    told = story.wait_mails(f"proposal #{proposal.pk} superseded")
    assert all(len(mails) == 1 for mails in told.values())
    assert "v1.1.0" in _text(told["finance-analytics"][0])


def test_breaking_then_normal_again_withdraws_and_tells_each_team_once(story):
    story.sync(story.artifacts.core_breaking_manifest)
    proposal = _open_dim()
    story.wait_mails("Breaking change to dim_customers needs")

    revert = story.sync(story.artifacts.manifests["core"])
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.WITHDRAWN
    assert proposal.resolution_reason.startswith(f"Reverted by sync #{revert.pk}")
    told = story.wait_mails(f"proposal #{proposal.pk} withdrawn")
    assert {slug: len(mails) for slug, mails in told.items()} == dict.fromkeys(CONSUMERS, 1)
    assert f"Reverted by sync #{revert.pk}" in _text(told["marketing-analytics"][0])

    story.sync(story.artifacts.manifests["core"])  # the same build again: nothing more to say
    story.worker.wait_idle()  # and whatever that sync queued has run
    assert {s: len(story.mails(s, f"proposal #{proposal.pk} withdrawn")) for s in CONSUMERS} == dict.fromkeys(
        CONSUMERS, 1
    )


def test_a_different_breaking_change_asks_again_with_the_difference_and_old_links_open_the_superseded_page(
    story,
):
    story.sync(story.artifacts.core_breaking_manifest)
    first = _open_dim()
    asked = story.wait_mails("Breaking change to dim_customers needs")
    old_link = urlparse(LINK.findall(_text(asked["finance-analytics"][0]))[0]).path

    story.sync(story.artifacts.core_retyped_manifest)
    second = _open_dim()  # exactly one open proposal on dim_customers
    first.refresh_from_db()
    assert second.pk != first.pk and first.superseded_by_id == second.pk
    again = story.wait_mails(f"changed since proposal #{first.pk}")
    for slug, mails in again.items():
        assert len(mails) == 1
        text = _text(mails[0])
        assert f"This replaces proposal #{first.pk}" in text
        assert "signup_date" in text and "country_code" in text  # what changed since the first question
        assert f"{slug} is asked again" in text

    page = Client().get(old_link)
    assert page.status_code == 410
    body = page.content.decode()
    assert "was superseded" in body and f'href="{second.get_absolute_url()}"' in body


def test_a_merge_that_brings_another_contract_does_not_publish_the_checked_one(story):
    sync_check(
        manifest=story.artifacts.read_bytes(story.artifacts.core_breaking_manifest),
        actor=story.producer,
        open_proposals=True,
    )
    checked = _open_dim()
    assert checked.origin == Proposal.Origin.CHECK
    for slug in CONSUMERS:
        assert story.answer_api(checked, slug).status_code == 200
    checked.refresh_from_db()
    assert checked.status == Proposal.Status.APPROVED

    story.sync(story.artifacts.core_retyped_manifest)  # the merge brought another contract
    checked.refresh_from_db()
    dim = Asset.objects.get(relation=DIM)
    assert checked.status == Proposal.Status.SUPERSEDED
    assert dim.active_version.semver == "1.0.0"
    assert ContractVersion.objects.get(pk=checked.proposed_version_id).status == "rejected"
    assert _open_dim().origin == Proposal.Origin.SYNC
