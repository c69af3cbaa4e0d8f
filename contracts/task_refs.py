"""The contracts app's Celery tasks, by reference: services enqueue through these constants
(``tessera_site.lib.enqueue``) and the task modules register under the same names, so services
never import task modules."""

from __future__ import annotations

from tessera_site.lib.enqueue import TaskRef

SYNC_RUN = TaskRef("contracts.tasks.sync_run_task")
COLUMN_USAGE_REFRESH = TaskRef("contracts.tasks.column_usage.column_usage_refresh_task")
WEBHOOK_DELIVER = TaskRef("contracts.tasks_workflow.webhook_deliver_task")
OUTBOX_DISPATCH = TaskRef("contracts.tasks_workflow.outbox_dispatch_task")
