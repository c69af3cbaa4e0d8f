"""The partial decoder (msgspec into contracts.ingest.manifest_schema) against the old ingestion
(``orjson.loads`` of the whole file, then the same walk): identical parsed manifests and identical
syncs on real manifests, and no key read by the parsers that the schema does not keep.

The old decode lives here only, as the yardstick: ``_old_parse``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, get_type_hints

import orjson
import pytest
from django.db import transaction

from contracts.demo_builds import ROOT, run_dbt
from contracts.domain import ParsedManifest
from contracts.ingest import manifest_schema
from contracts.ingest.manifest import ManifestError, parse_manifest, parse_manifest_document
from contracts.ingest.manifest_decode import MappedNodes, load_manifest_json, load_manifest_path
from contracts.models import ContractVersion, Proposal, SyncRun
from contracts.services.sync import sync_apply
from contracts.services.teams import team_ensure
from contracts.tests import dict_walk
from tessera_site.lib.auth import Actor
from testsupport.shared import gen_dbt_project

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(
    os.environ.get("TESSERA_SHARED_FIXTURES", ROOT.parent / "shared" / "fixtures" / "dbt-artifacts")
)
GENERATOR = gen_dbt_project()
OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))


def _manifests() -> list[Path]:
    """Every real manifest among the test fixtures: schema v4 to v12, dbt 1.0 to 1.11 (the shared
    dbt-artifacts fixtures are copied in contracts/tests/fixtures), with packages, exposures,
    groups, versions, compiled SQL."""
    audits = ROOT / "audits" / "tests" / "fixtures"
    return sorted(FIXTURES.glob("*manifest*.json")) + sorted(audits.glob("*manifest*.json"))


MANIFESTS = _manifests()


def _old_parse(data: bytes) -> ParsedManifest:
    """The ingestion before issue #17: the whole document decoded, then the walk over its dicts
    (``dict_walk``: the parser as it was before it read msgspec Structs)."""
    return dict_walk.parse_manifest_document(orjson.loads(data), consume=True)


# --- same parsed manifest ---------------------------------------------------------------------
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_the_partial_decode_parses_every_fixture_exactly_as_the_whole_document(path):
    data = path.read_bytes()
    new = parse_manifest(data)
    assert new.assets, "a fixture without assets compares nothing"
    assert new == _old_parse(data)


@pytest.mark.slow
def test_the_partial_decode_parses_the_demo_builds_exactly_as_the_whole_document(demo_artifacts):
    paths = [*demo_artifacts.manifests.values()] + [
        demo_artifacts.core_breaking_manifest,
        demo_artifacts.core_retyped_manifest,
        demo_artifacts.core_additive_manifest,
        demo_artifacts.core_removed_manifest,
    ]
    for path in paths:
        data = path.read_bytes()
        old = _old_parse(data)
        assert parse_manifest(data) == old, path.name
        assert _parse_stored(path) == old, path.name  # as the worker reads the stored upload


def _materialised(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored file's document with its mapped sections decoded whole (each node read twice:
    once by ``[]``, once by ``values()``, the two ways the parser reads them)."""
    out = dict(doc)
    for key, section in doc.items():
        if isinstance(section, MappedNodes):
            out[key] = {unique_id: section[unique_id] for unique_id in section}
            assert list(out[key].values()) == list(section.values())
    return out


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_a_stored_file_decoded_node_by_node_gives_the_same_document(path):
    """The worker maps the stored file and decodes each node when the parser takes it
    (load_manifest_path): the same nodes, and the same parse, consuming it or not."""
    data = path.read_bytes()
    assert _materialised(load_manifest_path(path)) == load_manifest_json(data)
    parsed = parse_manifest(data)
    assert parse_manifest_document(load_manifest_path(path), consume=True) == parsed
    assert parse_manifest_document(load_manifest_path(path), consume=False) == parsed


def _parse_stored(path: Path) -> ParsedManifest:
    return parse_manifest_document(load_manifest_path(path), consume=True)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "empty_body"),
        (b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {', "invalid_json"),
        (b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}, "results": []}', "not_a_manifest"),
        (b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v3.json"}, "nodes": {}}', "unsupported_schema_version"),
        (b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {"m": {"columns": 3}}}', "not_a_manifest"),
        (b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {}, "sources": {"s": {"columns": 3}}}', "not_a_manifest"),
        (b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {"t": {"test_metadata": []}}}', "not_a_manifest"),
        (b"[1, 2]", "not_a_manifest"),
    ],
)  # fmt: skip
def test_a_stored_file_fails_with_the_same_error_as_its_bytes(tmp_path, body, code):
    stored = tmp_path / "manifest.json"
    stored.write_bytes(body)
    with pytest.raises(ManifestError) as from_file:
        _parse_stored(stored)  # a node of the wrong shape is refused when it is decoded
    with pytest.raises(ManifestError) as from_bytes:
        load_manifest_json(body)
    assert from_file.value.code == from_bytes.value.code == code
    if code == "not_a_manifest" and b'"m"' in body:  # the file's error names the node
        assert "$.nodes['m'].columns" in from_file.value.detail
    if code == "not_a_manifest" and b'"s"' in body:
        assert "$.sources['s'].columns" in from_file.value.detail


# --- every key the parsers read is kept -------------------------------------------------------
class _Recording(dict):
    """A dict of the decoded document that notes each key read at a place the schema prunes."""

    def __init__(self, data: dict, path: str, kept: frozenset[str] | None, misses: set[str]) -> None:
        super().__init__(data)
        self._path, self._kept, self._misses = path, kept, misses

    def _note(self, key: Any) -> None:
        if self._kept is not None and key not in self._kept:
            self._misses.add(f"{self._path}.{key}")

    def get(self, key: Any, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: Any) -> bool:
        self._note(key)
        return super().__contains__(key)


MANIFEST_KEYS = frozenset(get_type_hints(manifest_schema.Manifest))


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_key_the_parsers_read_is_kept_by_the_schema(path):
    """The document is a dict of the sections the schema lists: its reads are recorded. Nodes are
    Structs of the schema's fields: a read of any other field is an AttributeError (and a mypy
    error), so the equivalence tests above would fail on it."""
    misses: set[str] = set()
    document = _Recording(load_manifest_json(path.read_bytes()), "$", MANIFEST_KEYS, misses)
    parse_manifest_document(document, consume=True)
    assert not misses, (
        f"read by the parsers, dropped by contracts/ingest/manifest_schema.py: {sorted(misses)}"
    )


def test_a_key_missing_from_the_schema_is_caught():
    """The recording test above can fail: a parser reading a key the schema drops is seen; and a
    node's field the schema does not list cannot be read at all."""
    misses: set[str] = set()
    manifest = load_manifest_json((FIXTURES / "small_shop_manifest.json").read_bytes())
    document = _Recording(manifest, "$", MANIFEST_KEYS, misses)
    document.get("macros")
    assert misses == {"$.macros"}
    node = next(iter(document["nodes"].values()))
    with pytest.raises(AttributeError):
        node.raw_code  # noqa: B018


# --- errors stay clear ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        (b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {"a": 1}}', "$.nodes[...]"),
        (b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {"a": {"config": "x"}}}', "config"),
        (b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {}, "sources": []}', "'sources' is not an object"),
        (b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v2.json"}, "nodes": []}', "v2 is not supported"),
        (b'"manifest"', "got a JSON string"),
    ],
)  # fmt: skip
def test_a_shape_dbt_does_not_write_is_a_clear_error(body, phrase):
    with pytest.raises(ManifestError) as err:
        parse_manifest(body)
    assert phrase in err.value.detail


# --- same syncs -------------------------------------------------------------------------------
def _without_ids(value: Any) -> Any:
    """A summary without the row ids it names (the second run's rows get new ones)."""
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in ("proposal", "duration_seconds")}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _sync_outcome(manifests: list[bytes], parse: Any) -> list[dict[str, Any]]:
    """Sync each manifest in turn with ``parse``, and say what came of it: the summaries, every
    version written and every proposal opened. Rolled back afterwards."""
    with transaction.atomic():
        savepoint = transaction.savepoint()
        summaries = []
        for data in manifests:
            run = SyncRun.objects.create(manifest="syncs/equivalence.json")
            summary = sync_apply(parsed=parse(data), run=run, actor=OPEN)
            summaries.append(_without_ids(summary))
        versions = sorted(
            ContractVersion.objects.values_list(
                "asset__unique_id", "major", "minor", "patch", "status", "change_kind", "content_hash"
            )
        )
        proposals = sorted(
            (
                p.asset.unique_id,
                p.status,
                p.proposed_hash,
                orjson.dumps(p.verdict, option=orjson.OPT_SORT_KEYS),
            )
            for p in Proposal.objects.select_related("asset")
        )
        required = sorted(
            Proposal.required_teams.through.objects.values_list("proposal__asset__unique_id", "team__slug")
        )
        transaction.savepoint_rollback(savepoint)
    return [{"summaries": summaries, "versions": versions, "proposals": proposals, "required": required}]


@pytest.mark.slow
@pytest.mark.django_db
def test_a_sync_of_the_demo_gives_the_same_verdicts_and_proposals_either_way(demo_artifacts):
    for slug in ("data-platform", "marketing-analytics", "finance-analytics"):
        team_ensure(slug=slug)
    manifests = [
        demo_artifacts.read_bytes(demo_artifacts.manifests[p]) for p in ("core", "marketing", "finance")
    ]
    manifests.append(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest))
    new = _sync_outcome(manifests, parse_manifest)
    assert new[0]["proposals"], "the breaking variant opens proposals: the comparison must cover them"
    assert new == _sync_outcome(manifests, _old_parse)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[bytes]:
    """A generated project (the shared benchmark generator, 150 models) and its breaking
    variant, each through a real ``dbt parse``."""
    if GENERATOR is None:
        pytest.skip("gen_dbt_project.py is not available")
    tmp = tmp_path_factory.mktemp("generated")
    out = []
    for breaking in (False, True):
        project = tmp / ("breaking" if breaking else "base")
        args = [
            str(GENERATOR),
            str(project),
            "--models",
            "150",
            "--columns",
            "8",
            "--seed",
            "7",
            "--project-name",
            "gen",
        ]
        subprocess.run([sys.executable, *args, *(["--breaking-change"] if breaking else [])], check=True)
        run_dbt(project, "parse", "--profiles-dir", ".")
        out.append((project / "target" / "manifest.json").read_bytes())
    return out


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.django_db
def test_generated_manifests_parse_and_sync_the_same_either_way(generated, tmp_path):
    stored = tmp_path / "manifest.json"
    for data in generated:
        old = _old_parse(data)
        assert parse_manifest(data) == old
        stored.write_bytes(data)
        assert _parse_stored(stored) == old
    teams = {c.team for data in generated for a in parse_manifest(data).assets for c in a.consumers}
    teams |= {a.owner_team for data in generated for a in parse_manifest(data).assets if a.owner_team}
    for slug in sorted(teams):
        team_ensure(slug=slug)
    new = _sync_outcome(generated, parse_manifest)
    assert new[0]["proposals"], "the breaking variant opens proposals: the comparison must cover them"
    assert new == _sync_outcome(generated, _old_parse)
