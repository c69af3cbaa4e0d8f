"""A small producer/consumers story shared by the workflow tests (real rows, no mocks)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from contracts.domain import ColumnSpec, ContractSpec, GuaranteeSpec
from contracts.factories import (
    AssetFactory,
    ContractVersionFactory,
    ProjectFactory,
    RegistrationFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)
from contracts.models import Asset, ContractVersion, Team, TeamMembership
from contracts.selectors.teams import actor_for_user
from tessera_site.lib.auth import Actor

# A signed answer link (approve/block/...) as it stands in an email's text or HTML.
ANSWER_LINK = re.compile(r"https?://[^\s\"'<>]+/answer/[^\s\"'<>]+/")


def base_spec() -> ContractSpec:
    return ContractSpec(
        columns=[
            ColumnSpec("customer_id", "integer", nullable=False),
            ColumnSpec("email", "varchar"),
            ColumnSpec("lifetime_value", "decimal(12,2)"),
        ],
        guarantees=[GuaranteeSpec("not_null", "customer_id"), GuaranteeSpec("unique", "customer_id")],
    )


def breaking_spec() -> ContractSpec:
    """email dropped: breaking under backward."""
    return ContractSpec(
        columns=[
            ColumnSpec("customer_id", "integer", nullable=False),
            ColumnSpec("lifetime_value", "decimal(12,2)"),
        ],
        guarantees=[GuaranteeSpec("not_null", "customer_id"), GuaranteeSpec("unique", "customer_id")],
    )


def other_breaking_spec() -> ContractSpec:
    return ContractSpec(
        columns=[ColumnSpec("customer_id", "integer", nullable=False)],
        guarantees=[GuaranteeSpec("not_null", "customer_id")],
    )


@dataclass
class Story:
    producer: Team
    marketing: Team
    finance: Team
    asset: Asset
    base: ContractVersion
    producer_lead: object
    producer_member: object
    marketing_user: object
    finance_user: object

    def actor(self, user) -> Actor:
        return actor_for_user(user)


def make_story() -> Story:
    producer = TeamFactory(slug="data-platform", email="platform@example.com")
    marketing = TeamFactory(slug="marketing-analytics", email="marketing@example.com")
    finance = TeamFactory(slug="finance-analytics", email="")
    project = ProjectFactory(name="core", owner_team=producer)
    asset = AssetFactory(project=project, owner_team=producer, name="dim_customers")
    base = ContractVersionFactory(asset=asset, spec=base_spec())
    RegistrationFactory(asset=asset, team=marketing)
    RegistrationFactory(asset=asset, team=finance, origin="lineage")
    RegistrationFactory(asset=asset, team=finance, origin="explicit")  # two origins, one required team
    lead = UserFactory(username="platform-lead", email="platform-lead@example.com")
    member = UserFactory(username="platform-member", email="platform-member@example.com")
    mk = UserFactory(username="marketing-lead", email="marketing-lead@example.com")
    fi = UserFactory(username="finance-lead", email="finance-lead@example.com")
    TeamMembershipFactory(team=producer, user=lead, role=TeamMembership.Role.LEAD)
    TeamMembershipFactory(team=producer, user=member, role=TeamMembership.Role.MEMBER)
    TeamMembershipFactory(team=marketing, user=mk, role=TeamMembership.Role.LEAD)
    TeamMembershipFactory(team=finance, user=fi, role=TeamMembership.Role.LEAD)
    asset.refresh_from_db()
    return Story(producer, marketing, finance, asset, base, lead, member, mk, fi)


def open_breaking(
    story: Story, *, origin: str = "sync", spec: ContractSpec | None = None, actor: Actor | None = None
):
    from contracts.compat.verdict import evaluate
    from contracts.services.proposals.opening import proposal_open

    spec = spec or breaking_spec()
    verdict = evaluate(old=base_spec(), new=spec, mode=story.asset.compatibility_mode)
    assert verdict.breaking
    return proposal_open(
        asset=story.asset,
        base_version=story.base,
        proposed_spec=spec,
        verdict=verdict,
        origin=origin,
        actor=actor or Actor(label="api-key:data-platform/ci", team=story.producer, scopes=("write",)),
    )


# --- a real local HTTP receiver for webhooks ------------------------------------------------------
class WebhookReceiver:
    """http.server in a thread; answers 500 to the first ``fail_first`` requests, then 204.

    Verifies each request's signature like a real receiver would and keeps every request.
    ``refuse`` = (status, body) answers every request that way instead, with ``Retry-After`` when
    ``retry_after`` is set.
    """

    def __init__(
        self,
        *,
        secret: str,
        fail_first: int = 0,
        refuse: tuple[int, str] | None = None,
        retry_after: str = "",
    ) -> None:
        import hashlib
        import hmac
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.secret = secret
        self.fail_first = fail_first
        self.refuse = refuse
        self.retry_after = retry_after
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                timestamp = self.headers.get("X-Tessera-Timestamp", "")
                expected = (
                    "sha256="
                    + hmac.new(
                        receiver.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                    ).hexdigest()
                )
                valid = hmac.compare_digest(expected, self.headers.get("X-Tessera-Signature", ""))
                with receiver.lock:
                    failing = len(receiver.requests) < receiver.fail_first
                    status, answer = (500 if failing or not valid else 204), b""
                    if receiver.refuse is not None:
                        status, answer = receiver.refuse[0], receiver.refuse[1].encode()
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "valid": valid, "answered": status}
                    )
                self.send_response(status)
                if receiver.retry_after:
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tessera"

    def delivered(self) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["answered"] == 204 and r["valid"]]

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_outbox() -> list[str]:
    """Perform every pending outbox message here, as a worker would (tests have no worker)."""
    from contracts.models import OutboxMessage
    from contracts.services.outbox_dispatch import outbox_dispatch

    ids = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).order_by("pk")
    return [outbox_dispatch(message_id=pk) for pk in ids.values_list("pk", flat=True)]


def run_outbox_all() -> None:
    """Perform pending outbox messages until none is left (a notice records its Slack posts,
    which are outbox messages of their own)."""
    for _ in range(5):
        if not run_outbox():
            return
