"""The request type of every dashboard view: one that went through django-htmx's middleware
(django-htmx's documented typing pattern), so ``request.htmx`` is typed."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
