"""Test support: pytest fixtures shared by every app's tests (real worker, SMTP server, browser,
the demo's dbt artifacts). Loaded by the root conftest.py; not part of the deployable code."""
