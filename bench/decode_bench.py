"""Benchmark of the ways to read a manifest: time and peak RSS, each in a fresh process.

    .venv/bin/python bench/decode_bench.py var/bench/manifest_5000_base.json [--repeat 3]

Ways (``--ways`` to pick some):

* ``json``          the floor: ``json.loads`` of the file (stdlib, default GC), as bench/sync_bench.py
* ``orjson``        ``orjson.loads`` with the collector paused (the decode before issue #17)
* ``orjson_parse``  that, then the parser's walk (``parse_manifest_document``): the old ingestion
* ``msgspec``       ``msgspec.json.decode`` into the TypedDicts of contracts.ingest.manifest_schema
* ``msgspec_parse`` that, then the same walk: the ingestion since issue #17 (``parse_manifest``)
* ``msgspec_struct`` the same fields decoded into ``msgspec.Struct`` classes instead of dicts
                    (decode only: what typed objects would save over the dicts the walk reads)
* ``ijson``         ijson (yajl2_c backend) streaming over ``nodes`` and ``sources`` one entry at a
                    time, keeping the same fields as the TypedDicts (decode only)

Each run reads the file from disk (page cache) and decodes it, in a bare Python process (the
parsers are pure: no Django); the figure is the best of ``--repeat`` runs, peak RSS the largest
(``ru_maxrss`` of the child). Results are printed as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]
WAYS = ("json", "orjson", "orjson_parse", "msgspec", "msgspec_parse", "msgspec_struct", "ijson")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The schema's fields as Struct classes (gc=False: they hold no cycles), for the msgspec_struct way.
class StructConfig(msgspec.Struct, gc=False):
    enabled: Any = None
    materialized: Any = None
    severity: Any = None
    where: Any = None
    meta: Any = None
    column_types: Any = None
    contract: Any = None
    freshness: Any = None
    access: Any = None
    group: Any = None


class StructColumn(msgspec.Struct, gc=False):
    name: Any = None
    data_type: Any = None
    description: Any = None
    constraints: Any = None


class StructDependsOn(msgspec.Struct, gc=False):
    nodes: Any = None


class StructNode(msgspec.Struct, gc=False):
    unique_id: Any = None
    resource_type: Any = None
    package_name: Any = None
    name: Any = None
    alias: Any = None
    identifier: Any = None
    source_name: Any = None
    database: Any = None
    schema: Any = None
    version: Any = None
    description: Any = None
    tags: Any = None
    meta: Any = None
    config: StructConfig | None = None
    columns: dict[str, StructColumn] | None = None
    constraints: Any = None
    contract: Any = None
    depends_on: StructDependsOn | None = None
    access: Any = None
    group: Any = None
    compiled_code: Any = None
    compiled_sql: Any = None
    original_file_path: Any = None
    path: Any = None
    attached_node: Any = None
    test_metadata: Any = None
    column_name: Any = None
    freshness: Any = None
    loaded_at_field: Any = None


class StructManifest(msgspec.Struct, gc=False):
    metadata: Any = None
    nodes: dict[str, StructNode] = {}
    sources: dict[str, StructNode] = {}
    disabled: dict[str, msgspec.Raw] = {}
    exposures: Any = None
    groups: Any = None


def _prune(value: Any, shape: Any) -> Any:
    """Keep only the keys the TypedDict ``shape`` lists (for the ijson way)."""
    from typing import get_args, get_origin, get_type_hints

    if not isinstance(value, dict):
        return value
    hints = get_type_hints(shape)
    out = {}
    for key, item in value.items():
        if key not in hints:
            continue
        hint = hints[key]
        args = [a for a in get_args(hint) if a is not type(None)]
        if get_origin(hint) is dict or (args and get_origin(args[0]) is dict):
            inner = get_args(args[0] if args else hint)[1]
            out[key] = {k: _prune(v, inner) for k, v in item.items()} if isinstance(item, dict) else item
        elif args and hasattr(args[0], "__annotations__"):
            out[key] = _prune(item, args[0])
        elif hasattr(hint, "__annotations__"):
            out[key] = _prune(item, hint)
        else:
            out[key] = item
    return out


def _ijson_doc(path: str) -> dict[str, Any]:
    import ijson

    from contracts.ingest.manifest_schema import Node

    doc: dict[str, Any] = {}
    with open(path, "rb") as handle:  # one pass per section: ijson reads one prefix per pass
        doc["metadata"] = next(ijson.items(handle, "metadata"))
    for section in ("nodes", "sources"):
        with open(path, "rb") as handle:
            doc[section] = {key: _prune(node, Node) for key, node in ijson.kvitems(handle, section)}
    return doc


def child(way: str, path: str) -> dict:
    import gc

    sys.path.insert(0, str(ROOT))  # contracts.ingest is pure: no Django set-up in any way
    started = time.perf_counter()
    with open(path, "rb") as handle:
        data = handle.read()
    summary: dict[str, Any] = {}
    if way == "json":
        doc = json.loads(data)
        summary["nodes"] = len(doc["nodes"])
    elif way in ("orjson", "orjson_parse"):
        import orjson

        gc.disable()
        doc = orjson.loads(data)
        del data
        if way == "orjson_parse":
            from contracts.ingest.manifest import parse_manifest_document

            parsed = parse_manifest_document(doc, consume=True)
            summary["assets"] = len(parsed.assets)
        else:
            summary["nodes"] = len(doc["nodes"])
    elif way == "msgspec":
        from contracts.ingest.manifest_schema import MANIFEST_DECODER

        gc.disable()
        doc = MANIFEST_DECODER.decode(data)
        summary["nodes"] = len(doc["nodes"])
    elif way == "msgspec_parse":
        from contracts.ingest.manifest import parse_manifest

        parsed = parse_manifest(data)
        summary["assets"] = len(parsed.assets)
    elif way == "msgspec_struct":
        gc.disable()
        manifest = msgspec.json.decode(data, type=StructManifest)
        summary["nodes"] = len(manifest.nodes)
    elif way == "ijson":
        del data
        gc.disable()
        doc = _ijson_doc(path)
        summary["nodes"] = len(doc["nodes"])
    seconds = time.perf_counter() - started
    return {"way": way, "seconds": seconds, "peak_rss_mb": _peak_rss_mb(), **summary}


def main() -> None:
    if len(sys.argv) > 3 and sys.argv[1] == "_child":
        print(json.dumps(child(sys.argv[2], sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ways", nargs="+", default=list(WAYS), choices=WAYS)
    args = parser.parse_args()
    env = {**os.environ, "DEBUG": "1"}
    runs: dict[str, list[dict]] = {way: [] for way in args.ways}
    for _ in range(args.repeat):  # interleaved, so a burst of load hits every way alike
        for way in args.ways:
            done = subprocess.run(
                [sys.executable, __file__, "_child", way, str(args.manifest)],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(f"{way} failed:\n{done.stderr}")
            runs[way].append(json.loads(done.stdout.strip().splitlines()[-1]))
    floor = min(r["seconds"] for r in runs["json"]) if "json" in runs else None
    floor_rss = max(r["peak_rss_mb"] for r in runs["json"]) if "json" in runs else None
    results = []
    for way, rows in runs.items():
        best = min(rows, key=lambda r: r["seconds"])
        row = {
            "way": way,
            "seconds": round(best["seconds"], 3),
            "all_seconds": [round(r["seconds"], 2) for r in rows],
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in rows), 1),
        }
        if floor:
            row["time_vs_json"] = round(best["seconds"] / floor, 2)
            row["rss_vs_json"] = round(row["peak_rss_mb"] / floor_rss, 2)
        results.append(row)
        print(json.dumps(row), flush=True)
    size_mb = args.manifest.stat().st_size / 1e6
    print(json.dumps({"manifest_mb": round(size_mb, 1), "load_avg": os.getloadavg(), "results": results}))


if __name__ == "__main__":
    main()
