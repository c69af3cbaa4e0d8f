"""A stored manifest (a SyncRun's file in Django's storage) decoded for the worker's tasks."""

from __future__ import annotations

from typing import Any

from contracts.ingest.manifest_decode import load_manifest_json, load_manifest_path


def stored_manifest_load(field_file: Any) -> dict[str, Any]:
    """The decoded manifest (contracts.ingest.manifest_decode). A file the storage keeps on a
    local disk is mapped and decoded node by node, so its text never sits whole in memory; any
    other storage's file (e.g. object storage) is read, then decoded."""
    try:
        path = field_file.path if field_file else None
    except NotImplementedError:  # a storage without local files
        path = None
    if path is not None:
        return load_manifest_path(path)
    if not field_file:
        return load_manifest_json(b"")
    with field_file.open("rb") as handle:
        return load_manifest_json(handle.read())
