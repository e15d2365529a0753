"""The ASGI front: static files are answered without Django, with the right caching headers."""

from __future__ import annotations

from pathlib import Path

import httpx
from django.conf import settings

from kefu.testing.fixtures import _collect_static_once, run_async


def _get(path: str) -> httpx.Response:
    from kefu.config.asgi import KefuApplication

    app = KefuApplication(run_jobs=False)

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(path)

    return run_async(fetch())


def test_missing_static_file_is_a_404_not_a_server_error() -> None:
    _collect_static_once()
    response = _get(f"{settings.STATIC_URL}vendor/no-such-file.js")
    assert response.status_code == 404
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hashed_static_files_are_cached_for_a_year_and_plain_names_revalidate() -> None:
    _collect_static_once()
    root = Path(settings.STATIC_ROOT)
    hashed = root / "vendor" / "htmx" / "htmx.min.0123456789ab.js"
    hashed.write_bytes((root / "vendor" / "htmx" / "htmx.min.js").read_bytes())
    try:
        fresh = _get(f"{settings.STATIC_URL}vendor/htmx/htmx.min.0123456789ab.js")
        assert fresh.status_code == 200
        assert fresh.headers["cache-control"] == "public, max-age=31536000, immutable"
    finally:
        hashed.unlink()
    plain = _get(f"{settings.STATIC_URL}vendor/htmx/htmx.min.js")
    assert plain.status_code == 200
    assert plain.headers["cache-control"] == "no-cache"
    assert plain.content == (root / "vendor" / "htmx" / "htmx.min.js").read_bytes()
