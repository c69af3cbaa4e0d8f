"""Audit runs and check results (write-audit-publish), and the job rows of uploaded result files.

An AuditRun is one execution of checks against one asset, whatever tool ran them; its
CheckResults link to the contract's guarantees when they can be matched. Runs are written by
``audits.services`` only; the publish gate and the history are read by ``audits.selectors``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from tessera_site.lib.jobs import JobRow


class ResultUpload(JobRow):
    """A result file (dbt run_results, GX, Soda, generic) waiting for, or done with, ingestion."""

    file = models.FileField(upload_to="audit-uploads/%Y/%m/%d/", max_length=500)
    original_name = models.CharField(max_length=300, blank=True, default="")
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    # As named by the uploader ("" = detect), then as detected/used by the parser.
    requested_format = models.CharField(max_length=32, blank=True, default="")
    format = models.CharField(max_length=32, blank=True, default="")
    asset_hint = models.CharField(
        max_length=500, blank=True, default="", help_text="asset= given with the upload"
    )
    team = models.ForeignKey(
        "contracts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="result_uploads"
    )
    api_key = models.ForeignKey(
        "contracts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True, default="")
    is_open_actor = models.BooleanField(default=False, help_text="Uploaded in the demo's open-API mode")
    sync_run = models.ForeignKey(
        "contracts.SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="result_uploads"
    )
    summary = models.JSONField(default=dict, blank=True)
    # Checks that matched no asset (or that the uploader may not report on): kept and shown, never dropped.
    unmatched = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Result upload #{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("api:audit_upload_get", args=[self.pk])


class AuditRun(models.Model):
    class Tool(models.TextChoices):
        DBT = "dbt", "dbt"
        GREAT_EXPECTATIONS = "great_expectations", "Great Expectations"
        SODA = "soda", "Soda Core"
        GENERIC = "generic", "generic result file"
        CUSTOM = "custom", "custom (API)"

    class Status(models.TextChoices):
        PASSED = "passed", "passed"
        FAILED = "failed", "failed"
        # Some of the contract's guarantees were not checked (a --select run, skipped tests).
        PARTIAL = "partial", "partial"
        # Checks could not run (and none failed): not a data failure, but no evidence either.
        ERROR = "error", "error"

    asset = models.ForeignKey("contracts.Asset", on_delete=models.CASCADE, related_name="audit_runs")
    contract_version = models.ForeignKey(
        "contracts.ContractVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_runs",
        help_text="The version active when the run was recorded",
    )
    tool = models.CharField(max_length=32, choices=Tool.choices)
    tool_name = models.CharField(
        max_length=100, blank=True, default="", help_text="Free name for generic/custom tools"
    )
    triggered_by = models.CharField(max_length=100, blank=True, default="")
    run_id = models.CharField(max_length=255, blank=True, default="")
    # What the tool was asked to do, as people say it (dbt: build, test, run, source freshness).
    run_kind = models.CharField(max_length=32, blank=True, default="")
    # dbt only: whether this run built the asset ("success"/"error"; "" = it did not build it).
    # A failed build holds the publish gate until a later run builds the asset successfully.
    build_status = models.CharField(max_length=8, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices)
    checked = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    warned = models.PositiveIntegerField(default=0)
    errored = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # Guarantees of the contract that this run did not check (a partial run): never counted as passed.
    unchecked = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    run_at = models.DateTimeField(default=timezone.now)
    upload = models.ForeignKey(
        ResultUpload, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    actor_label = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-run_at", "-id"]
        constraints = [
            # The same run reported twice is one run (idempotent retries from CI).
            models.UniqueConstraint(
                fields=["asset", "tool", "run_id"],
                condition=~Q(run_id=""),
                name="uniq_audit_run_id_per_asset_tool",
            ),
            models.CheckConstraint(
                condition=Q(checked__gte=F("passed") + F("failed") + F("warned") + F("errored")),
                name="audit_run_counts_within_checked",
            ),
            models.CheckConstraint(
                condition=~Q(status="passed") | Q(failed=0), name="audit_run_passed_has_no_failures"
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | Q(failed__gt=0), name="audit_run_failed_has_failures"
            ),
        ]
        indexes = [
            models.Index(fields=["asset", "-run_at"]),
            # Newest first with the id as tie-break, the order the dashboard lists failed runs in:
            # one results file gives thousands of runs the same run_at, and without the id here
            # PostgreSQL read and sorted every failed run to find the newest 50. The asset id
            # carried in the index (PostgreSQL) lets the home page keep the failed runs of the
            # assets a team uses without reading each failed run's row (6.8 -> 1.1 ms at 21,000).
            models.Index(
                fields=["status", "-run_at", "-id"], name="audit_run_status_newest", include=["asset"]
            ),
        ]

    BUILD_SUCCESS = "success"
    BUILD_ERROR = "error"

    def __str__(self) -> str:
        return f"{self.tool} audit of {self.asset_id} at {self.run_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.checked if self.checked else None

    @property
    def counts(self) -> dict[str, Any]:
        """The tallies a run reports, in the same keys wherever it is summarised (API, ingest summary)."""
        return {
            "checked": self.checked,
            "passed": self.passed,
            "failed": self.failed,
            "warned": self.warned,
            "errored": self.errored,
            "skipped": self.skipped,
            "unchecked": self.unchecked,
        }


class CheckResult(models.Model):
    class Status(models.TextChoices):
        PASS = "pass", "pass"
        FAIL = "fail", "fail"
        WARN = "warn", "warn"
        ERROR = "error", "error"
        SKIPPED = "skipped", "skipped"

    audit_run = models.ForeignKey(AuditRun, on_delete=models.CASCADE, related_name="checks")
    guarantee = models.ForeignKey(
        "contracts.Guarantee", null=True, blank=True, on_delete=models.SET_NULL, related_name="check_results"
    )
    # Identity across runs: dbt test unique_id, GX expectation, Soda check name, or the API's name.
    name = models.CharField(max_length=500)
    check_type = models.CharField(max_length=200, blank=True, default="")
    column = models.CharField(max_length=300, blank=True, default="")
    status = models.CharField(max_length=8, choices=Status.choices)
    failing_rows = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["audit_run_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(failing_rows__isnull=True) | Q(failing_rows__gte=0),
                name="check_failing_rows_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["guarantee", "audit_run"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name}: {self.status}"
