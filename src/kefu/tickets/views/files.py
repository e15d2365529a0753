"""Downloading attachments: access-checked, never executed or sniffed by the browser."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest

from kefu.core.files import protected_file_response
from kefu.tickets.access import access_attachment
from kefu.tickets.services.conversation import FILE_TYPES


@login_required
def download(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = access_attachment(request.user, attachment_id)
    ext = "." + attachment.filename.rsplit(".", 1)[-1].lower() if "." in attachment.filename else ""
    inline = FILE_TYPES.get(ext, ("", (), False))[2] and request.GET.get("download") != "1"
    return protected_file_response(
        attachment.file,
        name=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        inline=inline,
    )
