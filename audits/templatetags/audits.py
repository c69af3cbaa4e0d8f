"""Template tags the dashboard's pages use to draw the audits app's parts without importing it."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("audits/_results_form.html", takes_context=True)
def result_upload_form(context: template.Context, form: Any = None) -> dict[str, Any]:
    """The result file form of the upload page (``form`` carries the errors of a failed post)."""
    from audits.views import ResultUploadForm

    return {
        "results_form": form or ResultUploadForm(),
        "teams": context.get("teams", []),
        "csrf_token": context.get("csrf_token"),
    }
