"""Column usage stored from the demo's real dbt builds, and the consumer-aware impact it drives:
core's breaking variant asks the teams whose models read what changes and informs the others."""

from __future__ import annotations

import pytest
from django.test import Client

from contracts.factories import api_key_for
from contracts.models import Asset, ColumnUsage, ColumnUsageRun, ModelSql, Proposal, ProposalImpact, SyncRun
from contracts.services.column_usage import column_usage_refresh
from contracts.services.sync import sync_submit
from contracts.tasks import sync_run_task
from contracts.tasks.column_usage import column_usage_refresh_task
from tessera_site.lib.auth import SYSTEM

pytestmark = pytest.mark.django_db


def _sync(content: bytes) -> SyncRun:
    run = sync_submit(manifest=content, team_slug=None, actor=SYSTEM)
    sync_run_task(run.pk)  # what the worker does, then the column-usage step it enqueues on commit
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    column_usage_refresh_task(run.pk)
    return run


@pytest.fixture
def demo_synced(demo_artifacts):
    for project in ("core", "marketing", "finance"):
        _sync(demo_artifacts.read_bytes(demo_artifacts.manifests[project]))


def _usage(consumer: str, upstream: str) -> ColumnUsage:
    return ColumnUsage.objects.get(consumer__relation=consumer, upstream__relation=upstream)


def _impacts(relation: str) -> dict[str, ProposalImpact]:
    proposal = Proposal.objects.get(asset__relation=relation, status__in=Proposal.OPEN_STATUSES)
    return {i.team.slug: i for i in proposal.impacts.select_related("team")}


def test_marketing_models_read_country_code_of_core_dim_customers_across_projects(demo_synced):
    touchpoints = _usage("marketing.main.int_customer_touchpoints", "core.main.dim_customers")
    assert touchpoints.known and touchpoints.star == ""
    assert touchpoints.columns == {
        "country_code": ["select"],
        "customer_id": ["join"],
        "customer_segment": ["select"],
    }
    attribution = _usage("marketing.main.int_order_attribution", "core.main.fct_orders")
    assert attribution.columns["status"] == ["filter"]
    invoices = _usage("finance.main.int_invoice_payments", "core.main.fct_orders")
    assert set(invoices.columns) == {"order_id", "customer_id", "total_amount"}
    # intra-project reads are stored too (column-level lineage inside a project)
    assert _usage("core.main.dim_customers", "core.main.int_customer_order_history").known
    assert ModelSql.objects.filter(known=False).count() == 0


def test_an_identical_resync_is_recognised_and_nothing_is_parsed_again(demo_artifacts, demo_synced):
    marketing = demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"])
    before = dict(ModelSql.objects.values_list("asset_id", "analyzed_at"))
    run = sync_submit(manifest=marketing, team_slug=None, actor=SYSTEM)
    sync_run_task(run.pk)
    assert column_usage_refresh(sync_run_id=run.pk) == {
        "project": "marketing",
        "skipped": "unchanged",
        "models": 11,
    }
    assert dict(ModelSql.objects.values_list("asset_id", "analyzed_at")) == before


def test_a_changed_upstream_contract_reanalyses_only_the_models_that_read_it(demo_artifacts, demo_synced):
    core = Asset.objects.get(relation="core.main.dim_customers")
    run = SyncRun.objects.filter(project__name="marketing").latest("pk")
    ColumnUsageRun.objects.filter(project__name="marketing").update(upstream_signature="stale")
    Asset.objects.filter(pk=core.pk).update(content_hash="changed-upstream")
    result = column_usage_refresh(sync_run_id=run.pk)
    # the two marketing models reading dim_customers, nothing else
    assert result["analyzed"] == 2 and result["unknown"] == 0


def test_a_new_core_contract_reanalyses_the_reading_projects_after_cores_own_sync(
    demo_artifacts, demo_synced
):
    run = _sync(demo_artifacts.read_bytes(demo_artifacts.core_additive_manifest))
    result = column_usage_refresh(sync_run_id=run.pk)  # again: the task already ran inside _sync
    assert result["skipped"] == "unchanged"
    # the additive sync published dim_customers 1.1.0; the step that followed it re-read only the
    # marketing models that read dim_customers (finance has none)
    state = {r.project.name: r for r in ColumnUsageRun.objects.select_related("project")}
    assert state["marketing"].models_analyzed == 2
    assert state["finance"].models_analyzed == 12  # untouched since its own first pass


def test_a_manifest_from_dbt_parse_gives_unknown_usage_that_says_why(demo_artifacts, demo_synced):
    import orjson

    doc = orjson.loads(demo_artifacts.read_bytes(demo_artifacts.manifests["finance"]))
    for node in doc["nodes"].values():
        node.pop("compiled_code", None)
    _sync(orjson.dumps(doc))
    invoices = _usage("finance.main.int_invoice_payments", "core.main.fct_orders")
    assert not invoices.known
    assert "dbt parse" in invoices.message


def test_breaking_variant_asks_the_readers_of_what_changed_and_informs_the_others(
    demo_artifacts, demo_synced
):
    _sync(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest))

    customers = _impacts("core.main.dim_customers")
    marketing = customers["marketing-analytics"]
    assert marketing.role == "required"
    assert "country_code" in marketing.reason
    touched = {r["name"]: r["touched"] for r in marketing.readers}
    assert touched == {"fct_attribution": ["country_code"], "int_customer_touchpoints": ["country_code"]}
    # finance declared itself a consumer of dim_customers but no model of it reads the table
    # (a BI dashboard, say): its usage is unknown, so it is asked.
    assert customers["finance-analytics"].role == "required"
    assert "Usage unknown" in customers["finance-analytics"].reason

    orders = _impacts("core.main.fct_orders")
    assert orders["marketing-analytics"].role == "required"  # filters on status, whose test was dropped
    assert "status (filter)" in orders["marketing-analytics"].reason
    finance = orders["finance-analytics"]
    assert finance.role == "informed"
    assert "item_count" in finance.reason and "total_amount" in finance.reason
    proposal = Proposal.objects.get(asset__relation="core.main.fct_orders", status="open")
    assert set(proposal.required_teams.values_list("slug", flat=True)) == {"marketing-analytics"}


# --- the API ------------------------------------------------------------------------------------
@pytest.fixture
def reader(demo_synced) -> Client:
    from contracts.models import Team

    _, secret = api_key_for(Team.objects.get(slug="finance-analytics"), scopes="read")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_api_lists_the_models_and_teams_reading_one_column(reader):
    response = reader.get("/api/v1/assets/core.main.dim_customers/columns/COUNTRY_CODE/usage")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["column"] == "country_code" and body["in_contract"] is True
    readers = {(r["model"], r["team"]): r for r in body["readers"]}
    assert set(readers) == {
        ("fct_attribution", "marketing-analytics"),
        ("int_customer_touchpoints", "marketing-analytics"),
    }
    assert readers[("int_customer_touchpoints", "marketing-analytics")]["feeds"] == ["country_code"]
    assert body["unknown"] == []


def test_api_answers_404_json_for_a_column_nobody_has(reader):
    response = reader.get("/api/v1/assets/core.main.dim_customers/columns/no_such_column/usage")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert reader.get("/api/v1/assets/nope.main.nothing/columns/x/usage").status_code == 404


def test_lineage_endpoint_adds_column_edges_across_projects_on_request(reader):
    plain = reader.get("/api/v1/assets/core.main.fct_orders/lineage").json()
    assert plain["column_edges"] is None
    body = reader.get("/api/v1/assets/core.main.fct_orders/lineage", {"column": "status", "depth": 2}).json()
    edges = {(e["upstream_column"], e["downstream"], tuple(e["clauses"])) for e in body["column_edges"]}
    attribution = Asset.objects.get(relation="marketing.main.int_order_attribution").pk
    assert ("status", attribution, ("filter",)) in edges
    assert all(e["upstream_column"] == "status" for e in body["column_edges"] if e["upstream"] != attribution)
    sources = reader.get("/api/v1/assets/core.main.dim_customers/lineage", {"column": "country_code"}).json()
    stg = Asset.objects.get(relation="core.main.stg_customers").pk
    assert {(e["upstream"], e["upstream_column"], tuple(e["feeds"])) for e in sources["column_sources"]} == {
        (stg, "country_code", ("country_code",))
    }
    assert plain["column_sources"] is None
    every = reader.get("/api/v1/assets/core.main.fct_orders/lineage", {"columns": "true"}).json()
    assert {e["upstream_column"] for e in every["column_edges"]} >= {"order_id", "total_amount", "status"}


def test_lineage_page_draws_one_column_from_its_source_to_its_readers_across_projects(demo_synced, client):
    from django.urls import reverse

    from contracts.factories import UserFactory

    client.force_login(UserFactory())
    dim = Asset.objects.get(relation="core.main.dim_customers")
    data = client.get(reverse("lineage_json"), {"focus": dim.pk, "column": "Country_Code", "hops": 2}).json()
    column = data["column"]
    assert (column["asset"], column["name"]) == (dim.pk, "country_code")
    names = {n["id"]: n["name"] for n in data["nodes"]}
    roles = {names[c["id"]]: (c["role"], c["note"]) for c in column["nodes"]}
    assert roles["dim_customers"] == ("focus", "column country_code")
    assert roles["int_customer_touchpoints"] == ("reads", "reads country_code: select")
    assert roles["fct_attribution"][0] == "reads"  # two hops on, in marketing, through touchpoints' column
    sources = [name for name, (role, _note) in roles.items() if role == "source"]
    assert sources and all("→ country_code" in roles[name][1] for name in sources)
    drawn = {(e["from"], e["to"]) for e in data["edges"]}
    labels = {(names[e["from"]], names[e["to"]]): e["label"] for e in column["edges"]}
    assert labels[("dim_customers", "int_customer_touchpoints")] == "country_code: select"
    assert all((e["from"], e["to"]) in drawn for e in column["edges"])  # every labelled edge is in the graph

    page = client.get(reverse("lineage"), {"focus": dim.pk, "column": "country_code"}).content.decode()
    assert 'id="column-lineage"' in page and "Comes from" in page and "int_customer_touchpoints" in page


def test_column_lineage_takes_one_query_a_hop_whatever_the_readers(
    demo_synced, django_assert_max_num_queries
):
    from contracts.selectors.column_usage import column_lineage

    fct = Asset.objects.get(relation="core.main.fct_orders")
    with django_assert_max_num_queries(3):
        edges = column_lineage(asset=fct, depth=3)
    readers = {e["upstream"] for e in edges} - {fct.pk}
    assert len(readers) >= 3, "the second and third hops start from several readers"
