"""Errors raised by the artifact parsers, carrying a machine code and a sentence for people."""

from __future__ import annotations


class ManifestError(ValueError):
    """A dbt artifact that cannot be ingested. ``code`` is stable (API error code), ``detail`` is prose."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def __repr__(self) -> str:
        return f"ManifestError({self.code!r}, {self.detail!r})"
