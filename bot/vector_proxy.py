"""A token-checking proxy in front of a ``chroma run`` server.

``chroma run`` (chromadb 1.5.9) accepts every request: it has no token check of its own, and
its HTTP server has an open advisory (CVE-2026-45829). This proxy is the check. It runs on the
Chroma machine, listens on a private address, refuses any request without the right
``X-Chroma-Token`` (or ``Authorization: Bearer``), and forwards the rest to Chroma bound to
127.0.0.1. The token never goes further than the proxy.
"""

from __future__ import annotations

import hmac
import logging

import aiohttp
from aiohttp import web

from knowledge.vectors import TOKEN_HEADER, public_addresses

logger = logging.getLogger(__name__)

#: Shortest token accepted; ``python -c "import secrets; print(secrets.token_urlsafe(32))"``.
MIN_TOKEN_CHARS = 16
#: Largest request forwarded; our upserts go in batches of 2,000 vectors (a few MB of JSON).
MAX_BODY_BYTES = 64 * 1024 * 1024
_FORWARDED = ("Content-Type", "Accept")


class VectorProxy:
    """Checks the token on every request and forwards the good ones to ``upstream``.

    Args:
        host: Address to listen on (private or loopback unless ``allow_public``).
        port: Port to listen on; 0 picks a free one (see :attr:`port`).
        upstream: Base URL of the Chroma server, e.g. ``http://127.0.0.1:8000``.
        token: The shared secret the bot processes send.
        allow_public: Accept a public listen address.

    Raises:
        ValueError: the token is too short, or the listen address is public.
    """

    def __init__(
        self, *, host: str, port: int, upstream: str, token: str, allow_public: bool = False
    ) -> None:
        if len(token) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"the proxy token (CLUSTERBOT_VECTORS__TOKEN) needs {MIN_TOKEN_CHARS}+ characters"
            )
        public = public_addresses(host, port or 1)
        if public and not allow_public:
            raise ValueError(
                f"{host} is a public address ({', '.join(public)}); listen on a private one"
            )
        self._host = host
        self._port = port
        self._upstream = upstream.rstrip("/")
        self._token = token.encode()
        self._app = web.Application(client_max_size=MAX_BODY_BYTES)
        self._app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port: int | None = None
        self.refused = 0

    async def start(self) -> None:
        """Listen; with port 0 the chosen port is in :attr:`port`."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else self._port
        logger.info("vector proxy on %s:%s -> %s", self._host, self.port, self._upstream)

    async def stop(self) -> None:
        """Stop listening and close the upstream connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _authorised(self, request: web.Request) -> bool:
        supplied = request.headers.get(TOKEN_HEADER, "")
        if not supplied:
            scheme, _, value = request.headers.get("Authorization", "").partition(" ")
            supplied = value.strip() if scheme.lower() == "bearer" else ""
        return hmac.compare_digest(supplied.encode(), self._token)

    async def _forward(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            self.refused += 1
            logger.warning(
                "vector proxy refused a request from %s: no or wrong token", request.remote
            )
            return web.json_response(
                {"error": "Unauthorized", "message": "missing or wrong token"}, status=401
            )
        assert self._session is not None, "start() first"
        headers = {name: request.headers[name] for name in _FORWARDED if name in request.headers}
        body = await request.read()
        try:
            async with self._session.request(
                request.method,
                self._upstream + request.rel_url.path_qs,
                data=body or None,
                headers=headers,
            ) as upstream:
                payload = await upstream.read()
                return web.Response(
                    status=upstream.status,
                    body=payload,
                    headers={"Content-Type": upstream.headers.get("Content-Type", "text/plain")},
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("vector proxy: Chroma at %s failed: %s", self._upstream, exc)
            return web.json_response(
                {"error": "BadGateway", "message": "the Chroma server did not answer"},
                status=502,
            )


__all__ = ["MAX_BODY_BYTES", "MIN_TOKEN_CHARS", "VectorProxy"]
