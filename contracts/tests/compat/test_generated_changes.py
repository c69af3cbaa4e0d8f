"""Score the engine against the benchmark generator's seeded edits (real ``dbt parse`` manifests).

``gen_dbt_project.py --breaking-change`` writes the same project with seeded edits and lists
each one in ``generator_changes.json``. The engine must find every listed edit, judge it under
the model's mode as SPEC §5 says, and find nothing else.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.compat import evaluate
from contracts.compat.verdict import Verdict
from contracts.demo_builds import run_dbt
from contracts.ingest.manifest import parse_manifest
from testsupport.shared import gen_dbt_project

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# The generator is shared by every checkout: it lives next to the repository (as bench/ uses it).
GENERATOR = gen_dbt_project()

# Which change kinds the generator's edits must produce, and which directions they break.
EXPECTED_KIND = {
    "drop_column": "column_removed",
    "change_type": "type_changed",
    "remove_accepted_value": "guarantee_tightened",
    "add_column": "column_added",
}
BREAKS = {  # (backward, forward)
    "drop_column": (True, False),
    "change_type": (True, True),
    "remove_accepted_value": (False, True),
    "add_column": (False, True),
}


def _manifest(tmp: Path, *, breaking: bool) -> Path:
    out = tmp / ("breaking" if breaking else "base")
    args = [
        str(GENERATOR),
        str(out),
        "--models",
        "300",
        "--columns",
        "8",
        "--seed",
        "7",
        "--project-name",
        "gen",
    ]
    subprocess.run([sys.executable, *args, *(["--breaking-change"] if breaking else [])], check=True)
    run_dbt(out, "parse", "--profiles-dir", ".")
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[dict[str, Verdict], list[dict]]:
    if GENERATOR is None:
        pytest.skip("gen_dbt_project.py is not available")
    tmp = tmp_path_factory.mktemp("generated")
    base_dir, breaking_dir = _manifest(tmp, breaking=False), _manifest(tmp, breaking=True)
    base = {
        a.unique_id: a for a in parse_manifest((base_dir / "target" / "manifest.json").read_bytes()).assets
    }
    new = {
        a.unique_id: a
        for a in parse_manifest((breaking_dir / "target" / "manifest.json").read_bytes()).assets
    }
    assert set(base) == set(new)
    verdicts = {}
    for unique_id, asset in new.items():
        old = base[unique_id].contract
        verdict = evaluate(old=old, new=asset.contract, mode=old.mode)
        if verdict.changes:
            verdicts[unique_id] = verdict
    changes = json.loads((breaking_dir / "generator_changes.json").read_text())
    return verdicts, changes


def test_every_seeded_edit_is_found_and_nothing_else(generated) -> None:
    verdicts, changes = generated
    assert len(changes) >= 5
    assert set(verdicts) == {c["unique_id"] for c in changes}
    for edit in changes:
        found = [c for c in verdicts[edit["unique_id"]].changes if c.column == edit["column"]]
        assert [c.kind for c in found] == [EXPECTED_KIND[edit["kind"]]], edit


def test_each_edit_is_judged_under_its_models_mode(generated) -> None:
    verdicts, changes = generated
    for edit in changes:
        verdict = verdicts[edit["unique_id"]]
        backward, forward = BREAKS[edit["kind"]]
        mode = edit["compatibility_mode"]
        assert verdict.mode == mode
        base = mode.removesuffix("_transitive")
        expected = {"backward": backward, "forward": forward, "full": backward or forward, "none": False}[
            base
        ]
        breaking_here = any(c.column == edit["column"] for c in verdict.breaking_changes)
        assert breaking_here is expected, (edit, verdict.reasons)
        if expected:
            assert verdict.bump == "major"
            assert any(edit["column"] in reason for reason in verdict.reasons)
