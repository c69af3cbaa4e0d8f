"""Column usage in the API: who reads one column of an asset, and where (the lineage endpoint's
``?columns=true`` adds the column-level edges; see contracts.api.assets)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from contracts.api.access import request_actor
from contracts.api.schemas import ErrorOut
from contracts.selectors.assets import asset_get
from contracts.selectors.column_usage import column_usage_list
from tessera_site.lib.errors import not_found

router = Router(tags=["assets"])


class ColumnReaderOut(Schema):
    asset_id: int
    model: str
    relation: str
    team: str
    clauses: list[str]  # select, filter, join, group, order
    star: str  # "" or "*" / "* EXCLUDE (…)" when the model selects every column
    feeds: list[str]  # the model's own columns this column flows into


class UnknownReaderOut(Schema):
    asset_id: int
    model: str
    team: str
    message: str


class ColumnUsageOut(Schema):
    asset_id: int
    relation: str
    column: str
    in_contract: bool
    readers: list[ColumnReaderOut]
    unknown: list[UnknownReaderOut]  # models whose usage of the asset is unknown: they may read it


@router.get(
    "/assets/{ref}/columns/{name}/usage",
    response={200: ColumnUsageOut, 404: ErrorOut},
    summary="Which models (and teams) read one column of an asset, and where",
)
def asset_column_usage(request: HttpRequest, ref: str, name: str):
    request_actor(request, "read")
    asset = asset_get(ref=ref)
    usage = column_usage_list(asset=asset, column=name)
    if not usage["in_contract"] and not usage["readers"]:
        raise not_found(f"Column '{name}' of {asset.relation} (not in its contract and read by no model)")
    return {"asset_id": asset.pk, "relation": asset.relation, **usage}
