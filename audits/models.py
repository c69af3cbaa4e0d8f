"""Audit runs and check results (write-audit-publish)."""
