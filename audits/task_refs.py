"""The audits app's Celery tasks, by reference (see ``contracts.task_refs``)."""

from __future__ import annotations

from tessera_site.lib.enqueue import TaskRef

INGEST_RESULT_UPLOAD = TaskRef("audits.tasks.ingest_result_upload")
RELEASE_HELD_PUBLISHES = TaskRef("audits.tasks.release_held_publishes")
