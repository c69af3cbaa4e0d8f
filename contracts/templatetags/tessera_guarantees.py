"""``{{ guarantee|guarantee_label }}``: a guarantee as a person reads it on a badge.

The wording is the presenters' (``contracts.presenters.guarantees``); the page's selector hands
over the guarantees as stored, so selectors never import presenters (they sit below them).
"""

from __future__ import annotations

from typing import Any

from django import template

from contracts.presenters.guarantees import guarantee_label as _label

register = template.Library()


@register.filter
def guarantee_label(guarantee: dict[str, Any]) -> str:
    return _label(guarantee)
