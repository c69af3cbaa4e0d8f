"""Guarantees as a person reads them on the dashboard (badges, diff rows). No ORM."""

from __future__ import annotations

from typing import Any


def _short(values: Any, limit: int = 6) -> str:
    items = [str(v) for v in (values or [])]
    more = f" +{len(items) - limit}" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def guarantee_label(g: dict[str, Any]) -> str:
    """A guarantee as a person reads it on a badge: 'not null', 'one of: a, b', '≥ 0'."""
    kind = (
        (g.get("kind") or "").split(".")[-1]
        if g.get("kind", "").startswith("dbt_utils.")
        else g.get("kind", "")
    )
    args = g.get("arguments") or {}
    if kind == "not_null":
        return "not null"
    if kind == "unique":
        return "unique"
    if kind == "accepted_values":
        return f"one of: {_short(args.get('values'))}"
    if kind == "relationships":
        to = str(args.get("to", "")).replace("ref(", "").replace("source(", "").rstrip(")").replace("'", "")
        return f"→ {to}.{args.get('field', '')}"
    if kind == "accepted_range":
        low, high = args.get("min_value"), args.get("max_value")
        strict = args.get("inclusive") is False
        parts = []
        if low is not None:
            parts.append(f"{'>' if strict else '≥'} {low}")
        if high is not None:
            parts.append(f"{'<' if strict else '≤'} {high}")
        return "range " + " and ".join(parts) if parts else "range"
    if kind == "unique_combination_of_columns":
        return f"unique ({_short(args.get('combination_of_columns') or args.get('columns'))})"
    if kind == "singular":
        return f"SQL test {g.get('name') or ''}".strip()
    if kind == "expression":
        return f"expression {args.get('expression', '')}".strip()
    if kind == "freshness":
        return "freshness"
    return g.get("name") or kind


def guarantee_label_with_column(g: Any) -> str:
    """A contract's guarantee (GuaranteeSpec) with its column in front: ``email: not null``."""
    if g is None:
        return ""
    label = guarantee_label(g.as_dict())
    return f"{g.column}: {label}" if g.column else label
