"""The compatibility engine: type lattice, contract diff and verdicts (SPEC §5).

Pure code, no ORM: the sync, the CI check and the read API all call :func:`evaluate`.
Note the naming: our ``backward`` (new contract readable by existing consumers) is Confluent
Schema Registry's FORWARD, and our ``forward`` is their BACKWARD. See ``README.md`` here.
"""

from __future__ import annotations

from contracts.compat.diff.change import Change
from contracts.compat.diff.contract import diff_contracts
from contracts.compat.diff.guarantees import guarantee_key
from contracts.compat.diff.relations import relation_moved, relation_removed
from contracts.compat.types.parse import normalize_type
from contracts.compat.types.widening import compare_types
from contracts.compat.verdict import (
    Verdict,
    bump_version,
    evaluate,
    evaluate_removal,
    format_version,
    parse_version,
)

__all__ = [
    "Change",
    "Verdict",
    "bump_version",
    "compare_types",
    "diff_contracts",
    "evaluate",
    "evaluate_removal",
    "format_version",
    "guarantee_key",
    "normalize_type",
    "parse_version",
    "relation_moved",
    "relation_removed",
]
