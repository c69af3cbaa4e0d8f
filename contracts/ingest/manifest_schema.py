"""The parts of a dbt ``manifest.json`` Tessera reads, as the typed shape msgspec decodes into.

A manifest is mostly what Tessera never reads: raw and compiled SQL of every test, macros, docs,
the parent and child maps, file paths and checksums, every config key. ``msgspec.json.decode``
with these ``TypedDict`` types builds plain dicts holding only the keys listed here and skips the
rest of the text without building a Python object for it, so the parsers (``manifest``,
``exposures``, ``packages``) walk the same dicts they would get from ``json.loads``, minus what
they never look at.

How it compares with ``json.loads``, orjson and a streaming parser (ijson): bench/decode_bench.py,
figures in bench/README.md.

**A key the parsers read must be listed here**, at its place: a key missing here reads as absent.
``contracts/tests/test_manifest_decode.py`` runs the parsers over real manifests of every schema
version with each read recorded and fails on a read of a key this schema does not keep. Values
typed ``Any`` are decoded whole (small ones: ``meta``, test kwargs, constraints, sections of a
few entries such as exposures and groups).
"""

from __future__ import annotations

from typing import Any, TypedDict

import msgspec


class Config(TypedDict, total=False):
    enabled: Any
    materialized: Any
    severity: Any  # tests
    where: Any  # tests
    meta: Any
    column_types: Any  # seeds
    contract: Any
    freshness: Any  # sources (dbt 1.9+)
    access: Any
    group: Any


class Column(TypedDict, total=False):
    name: Any
    data_type: Any
    description: Any
    constraints: Any


class DependsOn(TypedDict, total=False):
    nodes: Any  # (and not ``macros``)


class Node(TypedDict, total=False):
    """An entry of ``nodes`` or ``sources`` (models, seeds, snapshots, tests, sources, ...)."""

    unique_id: Any
    resource_type: Any
    package_name: Any
    name: Any
    alias: Any
    identifier: Any  # sources
    source_name: Any  # sources
    database: Any
    schema: Any
    version: Any
    latest_version: Any  # model versions (contracts.ingest.versions)
    deprecation_date: Any
    refs: Any  # which refs pin no version
    description: Any
    tags: Any
    meta: Any
    config: Config | None
    columns: dict[str, Column] | None
    constraints: Any
    contract: Any
    depends_on: DependsOn | None
    access: Any
    group: Any
    compiled_code: Any
    compiled_sql: Any  # before dbt 1.3
    original_file_path: Any
    path: Any
    # tests
    attached_node: Any
    test_metadata: Any
    column_name: Any
    # sources
    freshness: Any
    loaded_at_field: Any


class Manifest(TypedDict, total=False):
    metadata: Any
    nodes: dict[str, Node]
    sources: dict[str, Node]
    # Only the keys are read (which models are disabled): each value is skipped, not built.
    disabled: dict[str, msgspec.Raw]
    exposures: Any
    groups: Any


class Sections(TypedDict, total=False):
    """The first pass over a stored manifest (``load_manifest_path``): each node is located, not
    decoded (a Raw is a slice of the file), so that the nodes can be decoded one by one after."""

    metadata: Any
    nodes: dict[str, msgspec.Raw]
    sources: dict[str, msgspec.Raw]
    disabled: dict[str, msgspec.Raw]
    exposures: Any
    groups: Any


class Envelope(TypedDict, total=False):
    """Just the metadata: what kind of dbt artifact this is, of which schema version."""

    metadata: Any


MANIFEST_DECODER = msgspec.json.Decoder(Manifest)
SECTIONS_DECODER = msgspec.json.Decoder(Sections)
NODE_DECODER = msgspec.json.Decoder(Node)
ENVELOPE_DECODER = msgspec.json.Decoder(Envelope)
