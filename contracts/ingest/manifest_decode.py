"""Decode a dbt ``manifest.json``: only the parts Tessera reads, and a readable error otherwise.

``load_manifest_json`` decodes with msgspec into the shape of
:mod:`contracts.ingest.manifest_schema`: a dict of the sections read, each node a Struct of only
the fields the parsers read, the rest of the text skipped without building Python objects for it. On the 5,000-model benchmark
manifest that is faster than ``json.loads`` of the file and holds a fraction of its memory (see
bench/README.md, issue #17); the dict of every macro, doc and SQL string is never built.

The worker reads a stored file with ``load_manifest_path``: mapped, every node located in a first
pass, then decoded one by one as the parser takes it while the pages already read are given back,
so the text never sits whole in memory, nor the decoded document (the same nodes as
``load_manifest_json``'s).

Errors say what is wrong in words a person can act on (``ManifestError``: invalid JSON, not a
manifest, another dbt artifact, an unsupported schema version, a shape dbt does not write).

Pure: bytes (or a file path) in, the decoded document out, no ORM.
"""

from __future__ import annotations

import gc
import mmap
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import msgspec

from contracts.ingest.errors import ManifestError
from contracts.ingest.manifest_schema import (
    ENVELOPE_DECODER,
    MANIFEST_DECODER,
    NODE_DECODER,
    SECTIONS_DECODER,
    Node,
)

__all__ = [
    "SUPPORTED_SCHEMA_VERSIONS",
    "MappedNodes",
    "NodeSection",
    "gc_paused",
    "load_manifest_json",
    "load_manifest_path",
    "schema_version_of",
]

SUPPORTED_SCHEMA_VERSIONS = (4, 5, 6, 7, 8, 9, 10, 11, 12)
SUPPORTED_TEXT = "v4–v12 (dbt 1.0 to 1.11)"

_SCHEMA_URL = re.compile(r"/dbt/([a-z_-]+)/v(\d+)\.json$")
# What a JSON document that is not an object is, by its first character.
_JSON_KINDS = {ord("["): "list", ord('"'): "string", ord("t"): "bool", ord("f"): "bool", ord("n"): "null"}


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large acyclic trees.

    Decoding a manifest creates hundreds of thousands of dicts and lists, and walking it
    allocates ~10 objects per column and test while they are alive; the collector's full passes
    rescan all of them again and again (measured on the 1,000-model manifest: orjson.loads 0.8 s
    → 0.3 s, the walk 0.59 s → 0.19 s). Nothing built here forms reference cycles, so nothing is
    leaked.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def schema_version_of(metadata: Any) -> tuple[str, int] | None:
    """``("manifest", 12)`` from ``metadata.dbt_schema_version``; None when absent or unreadable."""
    if not isinstance(metadata, dict):
        return None
    url = metadata.get("dbt_schema_version")
    if not isinstance(url, str):
        return None
    match = _SCHEMA_URL.search(url.strip())
    if not match:
        return None
    return match.group(1), int(match.group(2))


def load_manifest_json(data: bytes | str) -> dict[str, Any]:
    """Decode what the parsers read of a manifest and check its envelope.

    Raises ManifestError with a readable reason. The dict holds only the keys listed in
    :mod:`contracts.ingest.manifest_schema`; ``disabled`` maps each disabled node to None.
    """
    if not data:
        raise ManifestError("empty_body", "The manifest is empty: send the contents of target/manifest.json.")
    try:
        with gc_paused():
            doc = cast(dict[str, Any], MANIFEST_DECODER.decode(data))  # a TypedDict is a dict
    except msgspec.ValidationError as exc:
        raise _shape_error(data, exc) from None
    except msgspec.DecodeError as exc:
        raise ManifestError("invalid_json", f"The manifest is not valid JSON: {exc}.") from None
    _check_envelope(doc.get("metadata"))
    if not isinstance(doc.get("nodes"), dict):
        raise ManifestError("not_a_manifest", "The manifest has no 'nodes' object.")
    if "disabled" in doc:  # the keys are what is read; the skipped values would pin ``data``
        doc["disabled"] = dict.fromkeys(doc["disabled"])
    return doc


# Pages of the file read since the last release are given back every this many nodes.
_RELEASE_EVERY = 2000


def load_manifest_path(path: str | Path) -> dict[str, Any]:
    """:func:`load_manifest_json` of a stored file, without the file ever sitting whole in memory,
    nor the whole decoded document.

    The file is mapped, not read. A first pass locates every node (msgspec ``Raw`` slices of the
    mapping: nothing decoded) and checks the envelope. ``nodes`` and ``sources`` are then
    :class:`MappedNodes`: each node is decoded with the same schema when the parser takes it, and
    the pages already read are released as it goes (``MADV_DONTNEED``; they stay in the page
    cache). The parser turns a test into its guarantee as soon as it is decoded, so the ~38,000
    decoded tests of a 5,000-model manifest are never alive at once; the peak is the models'
    nodes and what the parser builds of them, not the document plus the 143 MB (5,000 models) to
    570 MB (20,000) of text. A node of the wrong shape raises the ``ManifestError`` that
    :func:`load_manifest_json` raises, when it is decoded.
    """
    with open(path, "rb") as handle:
        if not handle.seek(0, 2):
            return load_manifest_json(b"")
        # Not closed here: the Raw slices handed to MappedNodes keep the mapping alive, and it is
        # unmapped when the last of them (and the MappedNodes) is gone.
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    doc = _decode_mapped(mapped)
    if not isinstance(doc.get("nodes"), MappedNodes):  # an error: let the one-pass decode word it
        return load_manifest_json(mapped[:])
    return doc


def _decode_mapped(mapped: mmap.mmap) -> dict[str, Any]:
    try:
        with gc_paused():
            sections = cast(dict[str, Any], SECTIONS_DECODER.decode(mapped))
    except msgspec.ValidationError:
        return {}
    except msgspec.DecodeError as exc:
        raise ManifestError("invalid_json", f"The manifest is not valid JSON: {exc}.") from None
    mapped.madvise(mmap.MADV_DONTNEED)
    _check_envelope(sections.get("metadata"))
    for key in ("nodes", "sources"):
        if key in sections:
            sections[key] = MappedNodes(mapped, key, sections[key])
    if "disabled" in sections:
        sections["disabled"] = dict.fromkeys(sections["disabled"])
    return sections


class MappedNodes:
    """A section of a mapped manifest (``nodes`` or ``sources``): each node located, decoded into
    a :class:`~contracts.ingest.manifest_schema.Node` when it is taken.

    Read as the parser reads a dict of nodes: in file order, ``pop`` (decode and forget: what
    the parser does when it consumes the document) or ``[]`` and ``values()`` (decode, keep the
    slice). Hand-written rather than a msgspec feature: msgspec decodes a document whole or a
    ``Raw`` slice of it, and this is the glue that decodes the slices one at a time.
    """

    __slots__ = ("_mapped", "_raws", "_section", "_taken")

    def __init__(self, mapped: mmap.mmap, section: str, raws: dict[str, msgspec.Raw]) -> None:
        self._mapped, self._section, self._raws, self._taken = mapped, section, raws, 0

    def __len__(self) -> int:
        return len(self._raws)

    def __iter__(self) -> Iterator[str]:
        return iter(self._raws)

    def __getitem__(self, unique_id: str) -> Node:
        return self._decode(unique_id, self._raws[unique_id])

    def values(self) -> Iterator[Node]:
        for unique_id, raw in self._raws.items():
            yield self._decode(unique_id, raw)

    def pop(self, unique_id: str) -> Node:
        """The node, decoded; its slice is dropped and, every so many nodes, the pages read."""
        node = self._decode(unique_id, self._raws.pop(unique_id))
        self._taken += 1
        if not self._raws or self._taken % _RELEASE_EVERY == 0:
            self._mapped.madvise(mmap.MADV_DONTNEED)
        return node

    def _decode(self, unique_id: str, raw: msgspec.Raw) -> Node:
        try:
            return NODE_DECODER.decode(raw)
        except msgspec.ValidationError as exc:
            where = str(exc).replace("`$", f"`$.{self._section}[{unique_id!r}]")
        self._raws.clear()  # the document is refused: let the mapping go
        raise ManifestError(
            "not_a_manifest", f"This JSON does not have the shape of a dbt manifest: {where}."
        )


# Nodes of the document: a dict when decoded whole (load_manifest_json), else decoded when taken.
NodeSection = dict[str, Node] | MappedNodes


def _check_envelope(metadata: Any) -> None:
    version = schema_version_of(metadata)
    if version is None:
        raise ManifestError(
            "not_a_manifest",
            "This JSON is not a dbt manifest: metadata.dbt_schema_version is missing. "
            "Send target/manifest.json as written by dbt parse/build.",
        )
    kind, number = version
    if kind != "manifest":
        raise ManifestError(
            "not_a_manifest",
            f"This is a dbt {kind} file (schema v{number}), not a manifest. "
            "Send target/manifest.json; run results and catalogs go in their own fields.",
        )
    if number not in SUPPORTED_SCHEMA_VERSIONS:
        raise ManifestError(
            "unsupported_schema_version",
            f"Manifest schema v{number} is not supported; supported are {SUPPORTED_TEXT}. "
            + ("Upgrade the project to dbt 1.0 or later and run dbt parse again." if number < 4 else ""),
        )


def _shape_error(data: bytes | str, exc: msgspec.ValidationError) -> ManifestError:
    """Valid JSON that does not have a manifest's shape: say whether it is no object at all,
    another artifact or version (the envelope speaks first, as it would for a well-formed file),
    or where the shape breaks (msgspec names the place: ``$.nodes[...]``)."""
    head = data.lstrip()[:1] if isinstance(data, bytes | bytearray) else data.lstrip()[:1].encode()
    if head != b"{":
        kind = _JSON_KINDS.get(head[0], "number") if head else "value"
        return ManifestError("not_a_manifest", f"Expected a dbt manifest (a JSON object), got a JSON {kind}.")
    try:
        _check_envelope(ENVELOPE_DECODER.decode(data).get("metadata"))
    except ManifestError as envelope_error:
        return envelope_error
    except msgspec.DecodeError:
        pass
    where = str(exc)
    if where.endswith("`$.nodes`"):
        return ManifestError("not_a_manifest", "The manifest has no 'nodes' object.")
    if where.endswith("`$.sources`"):
        return ManifestError("not_a_manifest", "The manifest's 'sources' is not an object.")
    return ManifestError("not_a_manifest", f"This JSON does not have the shape of a dbt manifest: {where}.")
