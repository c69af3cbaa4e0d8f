"""Request bodies streamed to disk, never held whole in memory, and refused past the size limit
while they stream.

- A raw body (``body_to_file``) is read from the request in 1 MiB blocks into a temporary file.
- The files of a multipart form go through Django's upload handlers: ``SizeLimitUploadHandler``
  comes first in ``FILE_UPLOAD_HANDLERS`` and stops the upload (the rest of the body is read and
  dropped, never stored) the moment one file passes ``TESSERA_MAX_UPLOAD_BYTES``; the views ask
  :func:`upload_refusal` afterwards. Django's own handlers keep small files in memory and write
  the others to temporary files.

A temporary file is deleted when it is closed, so a refused upload leaves nothing behind; a
stored one is moved into the storage (``FileSystemStorage`` renames a temporary upload).

The edge middleware does not read the bodies of the views named in ``TESSERA_STREAMED_BODY_VIEWS``
(it would hold them in memory to look for NUL characters): such a view (the sync, the CI check,
the audit result upload) streams its body with :func:`body_upload`, which refuses a Content-Length
past the limit up front, streams with :func:`body_to_file` and makes the middleware's NUL check
(:func:`body_nul_refusal`) on the file, in blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from tessera_site.lib.errors import InvalidInput, TooLarge
from tessera_site.lib.validation import json_nul_location, json_nul_offset

BLOCK = 1024 * 1024
# Naming the JSON path of a NUL needs the whole document decoded: only bodies up to this size.
NUL_PATH_MAX_BYTES = 20 * 1024 * 1024


def too_large(label: str, limit: int, size: int | None = None) -> TooLarge:
    said = f"is {size:,} bytes" if size is not None else "is larger than that"
    return TooLarge(f"The {label} {said}; the limit is {limit:,} bytes (TESSERA_MAX_UPLOAD_BYTES).")


def body_to_file(request: HttpRequest, *, limit: int, name: str = "body.json") -> TemporaryUploadedFile:
    """The request body, streamed into a temporary file. Raises TooLarge as soon as it
    passes ``limit`` (the partial file is deleted)."""
    upload = TemporaryUploadedFile(name, request.content_type or "application/octet-stream", 0, None)
    size = 0
    try:
        while block := request.read(BLOCK):
            size += len(block)
            if size > limit:
                raise too_large("request body", limit)
            upload.write(block)
        upload.flush()
        upload.seek(0)
    except BaseException:
        upload.close()
        raise
    upload.size = size
    return upload


def content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def body_upload(request: HttpRequest, *, limit: int, name: str) -> TemporaryUploadedFile:
    """A raw body for a view named in ``TESSERA_STREAMED_BODY_VIEWS``: refused up front when its
    Content-Length passes ``limit``, else streamed to a temporary file (refused the moment it passes
    ``limit``) and refused when it holds a NUL (the edge middleware's check, made here). The caller
    closes it (deleted) or moves it into the storage."""
    length = content_length(request)
    if length > limit:
        raise too_large("request body", limit, length)
    body = body_to_file(request, limit=limit, name=name)
    refusal = body_nul_refusal(body)
    if refusal is not None:
        body.close()
        raise refusal
    return body


def file_blocks(upload: UploadedFile | bytes) -> Iterator[bytes]:
    """The upload's content in blocks, from the start (the file is rewound after)."""
    if isinstance(upload, bytes | bytearray):
        yield bytes(upload)
        return
    upload.seek(0)
    try:
        yield from upload.chunks(BLOCK)
    finally:
        upload.seek(0)


def read_all(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def upload_path(upload: UploadedFile) -> str | None:
    """The path of the temporary file an upload was spooled to; None for one held in memory
    (a multipart file under FILE_UPLOAD_MAX_MEMORY_SIZE)."""
    temporary_file_path = getattr(upload, "temporary_file_path", None)
    return temporary_file_path() if temporary_file_path is not None else None


def upload_nul_location(upload: UploadedFile | bytes) -> str | None:
    """Where a JSON upload holds a NUL character: its JSON path for a body up to 20 MB, else
    its byte offset; None when it holds none. Reads the file in blocks."""
    if isinstance(upload, bytes | bytearray):
        return json_nul_location(bytes(upload))
    offset = json_nul_offset(file_blocks(upload))
    if offset is None:
        return None
    if (upload.size or 0) <= NUL_PATH_MAX_BYTES:
        return json_nul_location(read_all(upload))
    return f"byte {offset}"


def body_nul_refusal(upload: UploadedFile) -> InvalidInput | None:
    """The edge middleware's answer to a JSON body holding a NUL, for a streamed body."""
    where = upload_nul_location(upload)
    if where is None:
        return None
    return InvalidInput(
        f"The body field '{where}' contains a NUL character (U+0000), which Tessera cannot store.",
        code="invalid_character",
        parameter=where,
    )


class SizeLimitUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: stops a multipart upload once a file passes the limit.

    It passes every block on to the next handler (which stores it) and keeps nothing itself.
    Django then closes (deletes) the files received so far and reads the rest of the body
    without keeping it, so the client gets the answer instead of a reset connection.
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = int(settings.TESSERA_MAX_UPLOAD_BYTES)
        self.refused: str | None = None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.refused = self.field_name or "file"
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file


def upload_refusal(request: HttpRequest) -> TooLarge | None:
    """The 413 for a multipart upload whose file passed the limit (call after reading FILES)."""
    for handler in request.upload_handlers:
        if isinstance(handler, SizeLimitUploadHandler) and handler.refused:
            return too_large(f"'{handler.refused}' file", handler.limit)
    return None
