"""The ASGI entry point served by uvicorn: HTTP (Django), WebSockets (Channels), static files.

HTTP requests run Django's synchronous handler in a pool of threads (a2wsgi). Kefu's views are
synchronous; Django's own ASGI handler would move every request between the event loop and
worker threads a dozen times (each sync middleware, each request signal), which costs more than
the view itself. WebSockets go through Channels on the event loop.

Static files are served from STATIC_ROOT (filled by collectstatic); names carrying a content
hash are cached by browsers for a year. In embedded mode the lifespan hooks start and stop the
in-process job scheduler.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
from collections.abc import MutableMapping
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")

# A server process holds many long-lived objects per socket. With Python's default thresholds a
# full collection over thousands of sockets (about half a second) ran every few seconds and
# stalled every socket of the process; these make it rare. Each uvicorn worker imports this.
GC_THRESHOLDS = (50_000, 50, 100)
gc.set_threshold(*GC_THRESHOLDS)

from django.core.wsgi import get_wsgi_application  # noqa: E402

django_wsgi = get_wsgi_application()

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402
from starlette.staticfiles import StaticFiles  # noqa: E402

from kefu.config.routing import websocket_urlpatterns  # noqa: E402

_HASHED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")

Scope = dict[str, Any]


class KefuApplication:
    def __init__(self, *, run_jobs: bool | None = None) -> None:
        self.router = ProtocolTypeRouter(
            {
                "http": WSGIMiddleware(django_wsgi, workers=settings.KEFU_WEB_THREADS),  # type: ignore[arg-type]
                "websocket": AllowedHostsOriginValidator(
                    AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
                ),
            }
        )
        self.static = StaticFiles(directory=settings.STATIC_ROOT, check_dir=False)
        self.run_jobs = settings.JOBS_BACKEND == "inprocess" if run_jobs is None else run_jobs
        self._loop_known = False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if not self._loop_known:
            from kefu.core.realtime import set_main_loop

            set_main_loop(asyncio.get_running_loop())
            self._loop_known = True
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(settings.STATIC_URL):
            await self._static(scope, receive, send)
            return
        await self.router(scope, receive, send)

    async def _static(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope["path"][len(settings.STATIC_URL) - 1 :]
        immutable = bool(_HASHED.search(path))

        async def send_with_cache(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != b"cache-control"]
                value = b"public, max-age=31536000, immutable" if immutable else b"no-cache"
                headers.append((b"cache-control", value))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.static({**scope, "path": path, "root_path": ""}, receive, send_with_cache)
        except HTTPException as exc:  # a missing file or a wrong method: answer, not a 500
            body = b"Not found" if exc.status_code == 404 else b"Method not allowed"
            await send(
                {
                    "type": "http.response.start",
                    "status": exc.status_code,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-content-type-options", b"nosniff"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        from asgiref.sync import sync_to_async

        from kefu.core import jobs

        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.run_jobs:
                    await sync_to_async(_start_jobs, thread_sensitive=False)()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.run_jobs:
                    await sync_to_async(jobs.stop_runner, thread_sensitive=False)()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _start_jobs() -> None:
    from kefu.core import jobs

    jobs.load_periodic()
    jobs.runner().start_periodic()


application = KefuApplication()
