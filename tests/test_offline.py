"""The suite must fail if code reaches beyond loopback."""

import socket

import httpx
import pytest

from tests.conftest import NetworkBlocked


def test_public_address_is_blocked() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with sock, pytest.raises(NetworkBlocked):
        sock.connect(("93.184.215.14", 80))


def test_http_client_to_internet_fails() -> None:
    with pytest.raises((NetworkBlocked, httpx.ConnectError)):
        httpx.get("https://example.org", timeout=2)


def test_loopback_is_allowed() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with server, client:
        client.connect(server.getsockname())
