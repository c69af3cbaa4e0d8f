"""The outline of a large result file, read in one streamed pass: enough to tell its format,
never the whole document in memory.

``detect_format`` needs only the top of a document: the top-level scalars (``format``), the
scalars of a top-level object (``metadata.dbt_schema_version``), whether a top-level value is a
list or an object (``checks``, ``run_results``, ``validation_results``) and the keys of the objects
in a top-level list (a Great Expectations validation's ``results``). :func:`document_outline`
builds that and nothing else: deeper containers become empty ones, and the items of a top-level
list are kept once per distinct shape (a dict of their keys, or an empty value of their type), so
200,000 results of the same shape are one dict. ``detect_format`` of the outline names the same
format as of the whole document.

ijson (yajl2_c) parses the file in blocks and checks every byte of it is JSON (``ResultFileError``
otherwise), in constant memory. The outline itself is built from its events by hand: no library
builds a bounded summary of a document's top.
"""

from __future__ import annotations

from typing import IO, Any

import ijson

from audits.ingest.types import ResultFileError

BLOCK = 1024 * 1024
_SCALAR_TYPES = {"null": None, "boolean": False, "integer": 0, "double": 0.0, "number": 0, "string": ""}
_DEPTH_CHANGE = {"start_map": 1, "start_array": 1, "end_map": -1, "end_array": -1}


class _Outline:
    """Builds the outline from ijson's basic events (depth 0 is outside the document)."""

    def __init__(self) -> None:
        self.doc: Any = None
        self.depth = 0
        self.key = ""  # the current key of the top-level object
        self.inner_key = ""  # the current key of a top-level value that is an object
        self.shapes: dict[Any, Any] = {}  # a top-level list's item shapes
        self.item_keys: dict[str, None] = {}  # the keys of the current item of a top-level list

    def event(self, event: str, value: Any) -> None:
        opens, closes = event in ("start_map", "start_array"), event in ("end_map", "end_array")
        if closes:
            self.depth -= 1
            self._closed(event)
            return
        if self.depth <= 2 or (self.depth == 3 and event == "map_key"):
            self._at(self.depth, event, value)
        if opens:
            self.depth += 1

    def _at(self, depth: int, event: str, value: Any) -> None:
        if depth == 0:
            self.doc = {} if event == "start_map" else [] if event == "start_array" else value
        elif depth == 1 and isinstance(self.doc, dict):
            if event == "map_key":
                self.key = value
            else:
                self.doc[self.key] = self._empty(event, value)
                self.shapes = {}
        elif depth == 2 and isinstance(self.doc, dict):
            parent = self.doc[self.key]
            if isinstance(parent, dict):
                if event == "map_key":
                    self.inner_key = value
                else:
                    parent[self.inner_key] = self._empty(event, value)
            elif isinstance(parent, list):
                self.item_keys = {}
                if event != "start_map":  # a scalar or a list: its type is its shape
                    self._shape([] if event == "start_array" else _SCALAR_TYPES.get(event))
        elif depth == 3 and event == "map_key" and self._in_list():
            self.item_keys[value] = None

    def _closed(self, event: str) -> None:
        if self.depth == 2 and event == "end_map" and self._in_list():
            self._shape(self.item_keys)
            self.item_keys = {}

    def _in_list(self) -> bool:
        """Whether the current top-level value is a list."""
        return isinstance(self.doc, dict) and isinstance(self.doc.get(self.key), list)

    def _shape(self, item: Any) -> None:
        marker = ("dict", *item) if isinstance(item, dict) else (type(item).__name__,)
        if marker not in self.shapes:
            self.shapes[marker] = item
            self.doc[self.key].append(item)

    @staticmethod
    def _empty(event: str, value: Any) -> Any:
        if event == "start_map":
            return {}
        if event == "start_array":
            return []
        return value if event in _SCALAR_TYPES else None


# A prefix no key of a checked file can have: files holding a NUL are refused before (PostgreSQL
# cannot store it), so ijson's C loop matches nothing and builds no Python object.
_NO_PREFIX = "\x00"


def json_check(handle: IO[bytes]) -> None:
    """Raise ResultFileError unless ``handle`` holds one valid JSON document (read in blocks, in
    constant memory, ~2x faster than :func:`document_outline`: nothing leaves ijson's C code)."""
    try:
        for _ in ijson.items(handle, _NO_PREFIX, buf_size=BLOCK):
            pass
    except ijson.JSONError as exc:
        raise _refusal(exc, seen=True) from None


def document_outline(handle: IO[bytes]) -> Any:
    """The outline of the JSON document in ``handle`` (read from its current position to the end).
    Raises ResultFileError when the file is empty or not valid JSON."""
    outline = _Outline()
    seen = False
    change = _DEPTH_CHANGE.get
    try:
        for event, value in ijson.basic_parse(handle, buf_size=BLOCK, use_float=True):
            seen = True
            # Most events lie deeper than the outline reaches: only count their depth (the loop
            # runs once per event, ~8 million times for a 145 MB run_results.json).
            depth = outline.depth
            if depth > 3 or (depth == 3 and event != "map_key" and event[0] != "e"):
                outline.depth = depth + change(event, 0)
                continue
            outline.event(event, value)
    except ijson.JSONError as exc:
        raise _refusal(exc, seen=seen) from None
    return outline.doc


def _refusal(exc: Exception, *, seen: bool) -> ResultFileError:
    reason = _reason(exc)
    if not seen and reason.startswith("parse error: premature EOF"):
        return ResultFileError("The file is empty.")
    return ResultFileError(f"The file is not valid JSON ({reason}).")


def _reason(exc: Exception) -> str:
    """yajl's first line (its next lines draw the place in the text)."""
    detail = exc.args[0] if exc.args else ""
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    return str(detail).strip().splitlines()[0] if str(detail).strip() else type(exc).__name__
