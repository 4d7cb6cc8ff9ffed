"""``clusterbot vector-proxy``: the token check in front of a ``chroma run`` server.

Run it on the Chroma machine, with Chroma bound to 127.0.0.1 and the proxy on the private
address the bot processes reach (see docs/deploy.md).
"""

from __future__ import annotations

import asyncio

import click

from bot import redact
from bot.cli_common import run, settings_for
from bot.lifecycle import stop_on_signals
from bot.vector_proxy import VectorProxy
from knowledge.vectors import VectorStoreError


@click.command("vector-proxy")
@click.option(
    "--listen",
    default="127.0.0.1:8001",
    show_default=True,
    metavar="HOST:PORT",
    help="Private address the bot processes connect to (CLUSTERBOT_VECTORS__HOST/_PORT).",
)
@click.option(
    "--upstream",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The chroma run server, bound to loopback.",
)
@click.option(
    "--allow-public", is_flag=True, help="Listen on a public address (needs TLS in front)."
)
def vector_proxy(listen: str, upstream: str, allow_public: bool) -> None:
    """Check CLUSTERBOT_VECTORS__TOKEN on every request and forward good ones to Chroma.

    'chroma run' checks no token itself; this is the check. Ctrl-C or SIGTERM stops it.
    """
    settings = settings_for(None)
    redact.install(settings.secrets())
    if settings.vectors.token is None:
        raise click.ClickException("set CLUSTERBOT_VECTORS__TOKEN: the proxy checks it")
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise click.BadParameter(f"{listen!r} is not HOST:PORT", param_hint="--listen")
    try:
        proxy = VectorProxy(
            host=host.strip("[]"),
            port=int(port),
            upstream=upstream,
            token=settings.vectors.token.get_secret_value(),
            allow_public=allow_public,
        )
    except (ValueError, VectorStoreError) as exc:
        raise click.ClickException(str(exc)) from exc

    async def body() -> None:
        stop = asyncio.Event()
        remove_handlers = stop_on_signals(stop)
        await proxy.start()
        click.echo(
            f"Checking tokens on {listen}, forwarding to {upstream}. Ctrl-C stops.", err=True
        )
        try:
            await stop.wait()
        finally:
            await proxy.stop()
            remove_handlers()

    run(body())


COMMANDS: tuple[click.Command, ...] = (vector_proxy,)

__all__ = ["COMMANDS", "vector_proxy"]
