"""dbt ingestion (SPEC §4): store an uploaded manifest, then turn it into assets and contracts.

``sync_submit`` (submit) runs in the request; ``sync_execute`` (execute) is the task body, which
parses the stored manifest and calls ``sync_apply`` (apply). ``sync_apply`` is an outline of
named steps, one module each, sharing a ``SyncContext`` (context):

    teams_resolve → owners_resolve → assets_match/assets_write → versions_write → nodes_write
    → registrations_write → lineage_write → proposals_open → proposals_follow → assets_retire
    → sync_finish

A new step is a function ``(ctx, plan, ...)`` in a module of its own, called from the outline.
``sync_check`` (check) is the dry run for CI: the same matching and judging, nothing written.
"""

from contracts.services.sync.apply import sync_apply
from contracts.services.sync.assets import existing_assets, specs_by_relation
from contracts.services.sync.execute import actor_for_run, sync_execute
from contracts.services.sync.submit import manifest_precheck, sync_submit, team_for_slug

__all__ = [
    "actor_for_run",
    "existing_assets",
    "manifest_precheck",
    "specs_by_relation",
    "sync_apply",
    "sync_execute",
    "sync_submit",
    "team_for_slug",
]
