"""Benchmark of the ways to read a manifest: time and peak RSS, each in a fresh process.

    .venv/bin/python bench/decode_bench.py var/bench/manifest_5000_base.json [--repeat 3]

Ways (``--ways`` to pick some):

* ``json``          the floor: ``json.loads`` of the file (stdlib, default GC), as bench/sync_bench.py
* ``orjson``        ``orjson.loads`` with the collector paused (the decode before issue #17)
* ``orjson_parse``  that, then the walk over its dicts (``contracts/tests/dict_walk.py``): the old
                    ingestion
* ``msgspec_dicts`` ``msgspec.json.decode`` into TypedDicts of the same fields (the decode from
                    f928f28 to bb29b7b: plain dicts, so the walk stayed the dict walk)
* ``msgspec_dicts_parse`` that, then the dict walk: the ingestion from f928f28 to bb29b7b
* ``msgspec``       ``msgspec.json.decode`` into ``contracts.ingest.manifest_schema`` (nodes as Structs)
* ``msgspec_parse`` that, then the parser's walk over the Structs: ``parse_manifest`` of the bytes
* ``mapped_parse``  the worker's way: the file mapped, its nodes located, each decoded when the
                    walk takes it (``load_manifest_path`` + ``parse_manifest_document``); no read
* ``ijson``         ijson (yajl2_c backend) streaming over ``nodes`` and ``sources`` one entry at a
                    time, keeping the same fields as the schema (decode only)

Each run reads the file from disk (page cache) and decodes it, in a bare Python process (the
parsers are pure: no Django); the figure is the best of ``--repeat`` runs, peak RSS the largest
(``ru_maxrss`` of the child), CPU seconds (user + system, the child's imports included) the
least. Results are printed as JSON.
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
from typing import Any, TypedDict

import msgspec

ROOT = Path(__file__).resolve().parents[1]
WAYS = (
    "json",
    "orjson",
    "orjson_parse",
    "msgspec_dicts",
    "msgspec_dicts_parse",
    "msgspec",
    "msgspec_parse",
    "mapped_parse",
    "ijson",
)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The schema as it was from f928f28 to bb29b7b: the same fields as TypedDicts (plain dicts), for the
# msgspec_dicts ways. (The Structs of contracts.ingest.manifest_schema replaced them.)
class DictConfig(TypedDict, total=False):
    enabled: Any
    materialized: Any
    severity: Any
    where: Any
    meta: Any
    column_types: Any
    contract: Any
    freshness: Any
    access: Any
    group: Any


class DictColumn(TypedDict, total=False):
    name: Any
    data_type: Any
    description: Any
    constraints: Any


class DictDependsOn(TypedDict, total=False):
    nodes: Any


class DictNode(TypedDict, total=False):
    unique_id: Any
    resource_type: Any
    package_name: Any
    name: Any
    alias: Any
    identifier: Any
    source_name: Any
    database: Any
    schema: Any
    version: Any
    latest_version: Any
    deprecation_date: Any
    refs: Any
    description: Any
    tags: Any
    meta: Any
    config: DictConfig | None
    columns: dict[str, DictColumn] | None
    constraints: Any
    contract: Any
    depends_on: DictDependsOn | None
    access: Any
    group: Any
    compiled_code: Any
    compiled_sql: Any
    original_file_path: Any
    path: Any
    attached_node: Any
    test_metadata: Any
    column_name: Any
    freshness: Any
    loaded_at_field: Any


class DictManifest(TypedDict, total=False):
    metadata: Any
    nodes: dict[str, DictNode]
    sources: dict[str, DictNode]
    disabled: dict[str, msgspec.Raw]
    exposures: Any
    groups: Any


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

    doc: dict[str, Any] = {}
    with open(path, "rb") as handle:  # one pass per section: ijson reads one prefix per pass
        doc["metadata"] = next(ijson.items(handle, "metadata"))
    for section in ("nodes", "sources"):
        with open(path, "rb") as handle:
            doc[section] = {key: _prune(node, DictNode) for key, node in ijson.kvitems(handle, section)}
    return doc


def child(way: str, path: str) -> dict:
    import gc

    sys.path.insert(0, str(ROOT))  # contracts.ingest is pure: no Django set-up in any way
    started = time.perf_counter()
    summary: dict[str, Any] = {}
    if way == "mapped_parse":  # the worker maps the stored file: it never reads it whole
        from contracts.ingest.manifest import parse_manifest_document
        from contracts.ingest.manifest_decode import load_manifest_path

        parsed = parse_manifest_document(load_manifest_path(path), consume=True)
        summary["assets"] = len(parsed.assets)
        return _result(way, started, summary)
    with open(path, "rb") as handle:
        data = handle.read()
    if way == "json":
        doc = json.loads(data)
        summary["nodes"] = len(doc["nodes"])
    elif way in ("orjson", "orjson_parse"):
        import orjson

        gc.disable()
        doc = orjson.loads(data)
        del data
        if way == "orjson_parse":
            from contracts.tests.dict_walk import parse_manifest_document as dict_walk

            summary["assets"] = len(dict_walk(doc, consume=True).assets)
        else:
            summary["nodes"] = len(doc["nodes"])
    elif way in ("msgspec_dicts", "msgspec_dicts_parse"):
        gc.disable()
        doc = msgspec.json.decode(data, type=DictManifest)
        del data
        if way == "msgspec_dicts_parse":
            from contracts.tests.dict_walk import parse_manifest_document as dict_walk

            doc["disabled"] = dict.fromkeys(doc.get("disabled") or {})
            summary["assets"] = len(dict_walk(doc, consume=True).assets)
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
    elif way == "ijson":
        del data
        gc.disable()
        doc = _ijson_doc(path)
        summary["nodes"] = len(doc["nodes"])
    return _result(way, started, summary)


def _result(way: str, started: float, summary: dict[str, Any]) -> dict[str, Any]:
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "way": way,
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,  # the whole child, imports included
        "peak_rss_mb": _peak_rss_mb(),
        **summary,
    }


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
    floor_cpu = min(r["cpu_seconds"] for r in runs["json"]) if "json" in runs else None
    floor_rss = max(r["peak_rss_mb"] for r in runs["json"]) if "json" in runs else None
    results = []
    for way, rows in runs.items():
        best = min(rows, key=lambda r: r["seconds"])
        row = {
            "way": way,
            "seconds": round(best["seconds"], 3),
            "all_seconds": [round(r["seconds"], 2) for r in rows],
            # CPU time moves less than wall time when other processes share the cores.
            "cpu_seconds": round(min(r["cpu_seconds"] for r in rows), 3),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in rows), 1),
        }
        if floor:
            row["time_vs_json"] = round(best["seconds"] / floor, 2)
            row["cpu_vs_json"] = round(row["cpu_seconds"] / floor_cpu, 2)  # type: ignore[operator]
            row["rss_vs_json"] = round(row["peak_rss_mb"] / floor_rss, 2)
        results.append(row)
        print(json.dumps(row), flush=True)
    size_mb = args.manifest.stat().st_size / 1e6
    print(json.dumps({"manifest_mb": round(size_mb, 1), "load_avg": os.getloadavg(), "results": results}))


if __name__ == "__main__":
    main()
