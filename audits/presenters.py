"""How audit data is shown on pages: pass-rate bars per run, readable check names, the asset
page's audit sections. Plain shapes for templates; reads go through ``audits.selectors``."""

from __future__ import annotations

from typing import Any

from audits.selectors import guarantee_pass_rates, publish_gate
from contracts.models import Asset


def check_label(name: str) -> str:
    """dbt test unique_ids read better without 'test.<project>.' and the hash: 'not_null_orders_id'."""
    parts = name.split(".")
    if len(parts) >= 3 and parts[0] == "test":
        return parts[2]
    return name


def trend_bars(runs_newest_first: list[Any], *, width: int = 600, height: int = 44) -> list[dict[str, Any]]:
    """Bars of the pass rate per run, oldest first, at a fixed width so one run is not one huge bar."""
    runs = list(reversed(runs_newest_first))
    step = width / max(len(runs), 40)
    bars = []
    for i, run in enumerate(runs):
        rate = run.passed / run.checked if run.checked else 0
        bars.append(
            {
                "x": round(i * step, 1),
                "w": round(max(step - 2, 1), 1),
                "h": round(rate * height, 1),
                "y": round(height - rate * height, 1),
                "run": run,
            }
        )
    return bars


def asset_audit_context(asset: Asset, *, runs: list[Any], history: bool) -> dict[str, Any]:
    """What the asset page (contracts.views.browse.asset_detail, wired in tessera_site/urls.py)
    draws of the audits: the trend of ``runs``, the publish gate and the checks worst first."""
    return {"trend": trend_bars(runs), **asset_audit_sections(asset, history=history)}


def asset_audit_sections(asset: Asset, *, history: bool) -> dict[str, Any]:
    """The publish gate and (for readers of the audit history) the checks worst first."""
    rates = guarantee_pass_rates(asset=asset)[:12] if history else []
    for rate in rates:
        rate["label"] = check_label(rate["name"])
    return {"gate": publish_gate(asset=asset), "check_rates": rates}
