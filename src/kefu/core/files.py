"""Serving stored files (work-order attachments, article images): access is checked by the
caller; the response makes sure the browser never runs or sniffs what it gets."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.utils.http import content_disposition_header


def protected_file_response(
    stored: Any, *, name: str, content_type: str, size: int, inline: bool
) -> FileResponse:
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(not inline, name) or "attachment"
    response["Content-Length"] = str(size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
