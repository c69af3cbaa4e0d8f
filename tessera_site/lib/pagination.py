"""The API's one paginator: django-ninja's pagination (``@paginate(PageNumbers)``) with the page
shape Tessera's clients have always received.

An endpoint returns its whole (lazy) queryset and declares ``response=list[ItemOut]``; ninja
hands the queryset to the paginator, which counts it, slices one page and wraps it:
``?page=&page_size=`` → ``{count, page, page_size, pages, items}``. The audit log keeps the names
it was published with (:class:`EventPages`: ``?page=&per_page=`` → ``{count, page, pages, results}``,
and a page past the last is the last, as Django's ``Paginator.get_page`` answered before).

Out-of-range numbers are refused here with the same 422 bodies as before (not with ninja's
generic validation error, which would change what clients get).
"""

from __future__ import annotations

from typing import Any

from ninja import Schema
from ninja.pagination import PaginationBase

from tessera_site.lib.errors import Unprocessable
from tessera_site.lib.validation import INT32_MAX

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class PageQuery(Schema):
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


class Page(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    items: list[Any]


class EventPageQuery(Schema):
    page: int = 1
    per_page: int = 50


class EventPage(Schema):
    count: int
    page: int
    pages: int
    results: list[Any]


class PageNumbers(PaginationBase):
    """``?page=&page_size=`` → ``{count, page, page_size, pages, items}``; a page past the last is empty."""

    # Schemas of their own names (ninja's nested ``Input``/``Output`` would all be called "Input"
    # in the OpenAPI document); not subclasses of ninja's, whose field order would come first.
    Input = PageQuery  # type: ignore[assignment]
    Output = Page  # type: ignore[assignment]
    items_attribute = "items"
    past_the_end_is_last = False

    def page_and_size(self, pagination: Any) -> tuple[int, int]:
        """The requested page and page size, or Unprocessable when either is out of range."""
        if not 1 <= pagination.page <= INT32_MAX:
            raise Unprocessable(f"page must be between 1 and {INT32_MAX}")
        if not 1 <= pagination.page_size <= MAX_PAGE_SIZE:
            raise Unprocessable(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        return pagination.page, pagination.page_size

    def paginate_queryset(
        self, queryset: Any, pagination: Any, request: Any, **params: Any
    ) -> dict[str, Any]:
        page, size = self.page_and_size(pagination)
        count = self._items_count(queryset)
        pages = max(1, -(-count // size))
        if self.past_the_end_is_last:
            page = min(page, pages)
        start = (page - 1) * size
        return {
            "count": count,
            "page": page,
            "page_size": size,
            "pages": pages,
            self.items_attribute: queryset[start : start + size],
        }


class EventPages(PageNumbers):
    """The audit log: ``?page=&per_page=`` (up to 500) → ``{count, page, pages, results}``."""

    Input = EventPageQuery  # type: ignore[assignment]
    Output = EventPage  # type: ignore[assignment]
    items_attribute = "results"
    past_the_end_is_last = True
    max_per_page = 500

    def page_and_size(self, pagination: Any) -> tuple[int, int]:
        if pagination.page < 1 or not 1 <= pagination.per_page <= self.max_per_page:
            raise Unprocessable(
                f"page must be ≥ 1 and per_page between 1 and {self.max_per_page}", code="invalid_page"
            )
        return pagination.page, pagination.per_page
