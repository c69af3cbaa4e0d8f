"""Celery tasks of the contracts app. Celery's autodiscovery imports this package, so every task
module is imported here; task names are explicit (``name=``) and do not follow module paths."""

from contracts.tasks import column_usage, sync, workflow
from contracts.tasks.sync import sync_run_task

__all__ = ["column_usage", "sync", "sync_run_task", "workflow"]
