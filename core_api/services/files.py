"""Attachments: reading an upload within its limits, what its bytes are, storing and removing.

The size limit holds before the body is parsed (a declared length past it is refused at once,
and the stream is cut off there), so a large upload costs neither memory nor temporary disk. A
file's type is read from its first bytes (magic numbers); the type its client declared only has
to agree with that, so a script renamed ``photo.png`` is refused, not served back as an image.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from fastapi import HTTPException, Request, status
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from core_api.events.payloads import ATTACHMENT_TYPES
from settings import Settings

# Room for the multipart framing around the file: boundaries, part headers, a long file name.
FRAMING_BYTES = 64 * 1024
FORM_FIELD = "file"
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", ""})
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class Upload:
    name: str
    declared_type: str
    data: bytes


def _refuse(code: int, reason: str, **detail: object) -> HTTPException:
    return HTTPException(code, detail={"reason": reason, **detail})


def too_large(settings: Settings) -> HTTPException:
    return _refuse(
        status.HTTP_413_CONTENT_TOO_LARGE, "file_too_large", max_bytes=settings.files_max_bytes
    )


def sniff(data: bytes) -> str | None:
    """The media type the bytes are, of those an attachment may be; None for anything else."""
    for magic, media_type in _SIGNATURES:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if _BINARY.search(data) is None:  # text: UTF-8 without control bytes but tab and breaks
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text/plain"
    return None


def check_type(upload: Upload, settings: Settings) -> str:
    """The upload's media type as its bytes say; 415 when not allowed or not what was declared."""
    allowed = set(settings.files_types.split(",")) & set(ATTACHMENT_TYPES)
    found = sniff(upload.data)
    if found is None or found not in allowed:
        raise _refuse(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "unsupported_type", allowed=sorted(allowed)
        )
    declared = upload.declared_type
    if declared not in GENERIC_TYPES and declared != found:
        raise _refuse(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "declared_type_mismatch",
            declared=declared[:64],
            found=found,
        )
    return found


def clean_name(name: str | None) -> str:
    """A file name fit to show and to hand back in Content-Disposition: no path, no controls."""
    name = unicodedata.normalize("NFC", name or "")
    name = _UNSAFE_NAME.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .")
    # No lone surrogates (neither database driver can store them).
    name = name.encode("utf-8", "replace").decode("utf-8")
    return name[:255] or "file"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def read_upload(request: Request, settings: Settings) -> Upload:
    """The one file of a ``multipart/form-data`` body (form field ``file``), within the limit."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "multipart/form-data":
        raise _refuse(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "multipart_expected")
    cap = settings.files_max_bytes + FRAMING_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise too_large(settings)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise too_large(settings)
        chunks.append(chunk)
    body = b"".join(chunks)

    async def replay() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(Headers(scope=request.scope), replay(), max_files=1, max_fields=4)
    try:
        form = await parser.parse()
    except (MultiPartException, ValueError, KeyError) as exc:
        raise _refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, "bad_multipart", msg=str(exc)) from exc
    part = form.get(FORM_FIELD)
    try:
        if not isinstance(part, UploadFile):
            raise _refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, "file_part_expected")
        data = await part.read()
        if len(data) > settings.files_max_bytes:
            raise too_large(settings)
        if not data:
            raise _refuse(status.HTTP_422_UNPROCESSABLE_CONTENT, "empty_file")
        declared_type = (part.content_type or "").split(";", 1)[0].strip().lower()
        return Upload(name=clean_name(part.filename), declared_type=declared_type, data=data)
    finally:
        await form.close()
