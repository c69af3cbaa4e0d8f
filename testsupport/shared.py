"""Files shared by every checkout of the project (the dbt project generator of ../shared/bench/,
the real dbt artifacts of ../shared/fixtures/): they live next to the repository, not in it.

A checkout may sit deeper than the repository's usual place (a git worktree under a folder of
worktrees), so the first ``shared/`` folder beside the checkout or beside one of its parents is
taken; an environment variable names the file outright.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_file(*parts: str, env: str) -> Path | None:
    """``$env`` if set, else the nearest ``shared/<parts>`` beside ROOT or one of its parents."""
    if os.environ.get(env):
        return Path(os.environ[env])
    for folder in (ROOT, *ROOT.parents):
        candidate = folder.parent / "shared" / Path(*parts)
        if candidate.exists():
            return candidate
    return None


def gen_dbt_project() -> Path | None:
    """The generator of large dbt projects (``../shared/bench/gen_dbt_project.py``), or None."""
    return shared_file("bench", "gen_dbt_project.py", env="TESSERA_GEN_DBT_PROJECT")
