"""The one HTTP server of a ``serve`` process: the health check and the channels' webhooks.

Telegram's webhook and Slack's Events API arrive here when those channels run in HTTP mode;
``GET /healthz`` reports whether the database answers and every channel is connected, for
load balancers, container orchestrators and the operator's own checks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


class WebServer:
    """An aiohttp server on one address, serving the health check plus the given routes."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        health: HealthCheck,
        routes: Sequence[web.RouteDef] = (),
    ) -> None:
        self._host = host
        self._port = port
        self._health = health
        self._app = web.Application(client_max_size=1024 * 1024)
        self._app.add_routes([web.get("/healthz", self._healthz), *routes])
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Listen; with port 0 the chosen port is in ``self.port``."""
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else self._port
        logger.info("HTTP server on %s:%s", self._host, self.port)

    async def stop(self) -> None:
        """Stop listening and finish open requests."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        try:
            report = await self._health()
        except Exception:
            logger.exception("health check failed")
            report = {"ok": False}
        return web.json_response(report, status=200 if report.get("ok") else 503)


__all__ = ["HealthCheck", "WebServer"]
