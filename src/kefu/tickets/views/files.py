"""Downloading attachments: access-checked, never executed or sniffed by the browser."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.utils.http import content_disposition_header

from kefu.tickets.access import access_attachment
from kefu.tickets.services.conversation import FILE_TYPES


@login_required
def download(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = access_attachment(request.user, attachment_id)
    ext = "." + attachment.filename.rsplit(".", 1)[-1].lower() if "." in attachment.filename else ""
    inline = FILE_TYPES.get(ext, ("", (), False))[2] and request.GET.get("download") != "1"
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = (
        content_disposition_header(not inline, attachment.filename) or "attachment"
    )
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
