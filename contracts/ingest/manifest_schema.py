"""The parts of a dbt ``manifest.json`` Tessera reads, as the typed shape msgspec decodes into.

A manifest is mostly what Tessera never reads: raw and compiled SQL of every test, macros, docs,
the parent and child maps, file paths and checksums, every config key. ``msgspec.json.decode``
into these types builds only the fields listed here and skips the rest of the text without
building a Python object for it. The document is a dict (``Manifest``: a ``TypedDict``) of the
sections read; each node is a ``Node`` Struct whose config, columns, ``depends_on`` and
``test_metadata`` are Structs too, and the parsers (``manifest``, ``versions``, ``packages``,
``exposures.node_access``) read their attributes. Against the same fields as dicts (the shape
before), a Struct decodes faster and holds less (no per-node hash table), and the walk reads a
slot instead of hashing a key (bench/decode_bench.py, figures in bench/README.md, issue #17).
A field absent from the JSON reads as None (or UNSET where absent and null differ).

**A key the parsers read must be listed here**, at its place. On a node, a field not listed
cannot be read at all (an AttributeError, and a mypy error); on the document, a section not
listed reads as absent, and ``contracts/tests/test_manifest_decode.py`` records the parsers'
reads over real manifests of every schema version and fails on one this schema does not keep.
Values typed ``Any`` are decoded whole (small ones: ``meta``, test kwargs, constraints, sections
of a few entries such as exposures and groups).

The Structs are ``gc=False``: decoded JSON holds no reference cycles, and the collector need not
track the ~150,000 of them a 5,000-model manifest makes.
"""

from __future__ import annotations

from typing import Any, TypedDict

import msgspec


class Config(msgspec.Struct, gc=False):
    enabled: Any = None
    materialized: Any = None
    severity: Any = None  # tests
    where: Any = None  # tests
    meta: Any = None
    column_types: Any = None  # seeds
    contract: Any = None
    freshness: Any = None  # sources (dbt 1.9+)
    access: Any = None
    group: Any = None


NO_CONFIG = Config()  # a node without ``config`` (or with ``"config": null``) reads as this one


class Column(msgspec.Struct, gc=False):
    name: Any = None
    data_type: Any = None
    description: Any = None
    constraints: Any = None


class DependsOn(msgspec.Struct, gc=False):
    nodes: Any = None  # (and not ``macros``)


class GenericTestMetadata(msgspec.Struct, gc=False):
    """A generic test's ``test_metadata``. UNSET, not None, when a key is absent, so that
    ``{}`` (no test named: read as a singular test) stays apart from ``{"name": null}``."""

    name: Any = msgspec.UNSET
    namespace: Any = msgspec.UNSET
    kwargs: Any = msgspec.UNSET


NO_TEST_METADATA = GenericTestMetadata()


class Node(msgspec.Struct, gc=False):
    """An entry of ``nodes`` or ``sources`` (models, seeds, snapshots, tests, sources, ...)."""

    unique_id: Any = None
    resource_type: Any = None
    package_name: Any = None
    name: Any = None
    alias: Any = None
    identifier: Any = None  # sources
    source_name: Any = None  # sources
    database: Any = None
    schema: Any = None
    version: Any = None
    latest_version: Any = None  # model versions (contracts.ingest.versions)
    deprecation_date: Any = None
    refs: Any = None  # which refs pin no version
    description: Any = None
    tags: Any = None
    meta: Any = None
    config: Config | None = None
    columns: dict[str, Column] | None = None
    constraints: Any = None
    contract: Any = None
    depends_on: DependsOn | None = None
    access: Any = None
    group: Any = None
    # UNSET when absent: a ``compiled_code`` of null (dbt 1.3+) does not fall back to compiled_sql.
    compiled_code: Any = msgspec.UNSET
    compiled_sql: Any = None  # before dbt 1.3
    original_file_path: Any = None
    path: Any = None
    # tests
    attached_node: Any = None
    test_metadata: GenericTestMetadata | None = None
    column_name: Any = None
    # sources
    freshness: Any = None
    loaded_at_field: Any = None


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
