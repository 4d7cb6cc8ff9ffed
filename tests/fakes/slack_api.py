"""A fake Slack (Web API, response URLs, file uploads, Socket Mode) on 127.0.0.1, and a driver.

``FakeSlack`` is an aiohttp.web server in the test's own event loop. It serves the Web API
methods clusterbot uses as ``POST /api/<method>`` (form or JSON bodies, ``Authorization:
Bearer``), the upload URLs of the files v2 flow, ``response_url`` endpoints, and a Socket Mode
websocket (``apps.connections.open`` hands out its ws:// URL). It records every call in order
and can fail or stall the next calls of a method::

    async with FakeSlack() as fake:
        fake.fail_next("chat.postMessage", status=429, retry_after=30)
        fake.fail_next("chat.postMessage", status="channel_not_found")
        fake.stall_next("chat.postMessage", 2.0)
        ...
        assert fake.calls("chat.postMessage")[0].params["channel"] == "D0USER"

``running_slack(responder)`` starts a fake, a ``SlackChannel`` pointing at it (HTTP mode by
default, its routes served on 127.0.0.1; ``slack_mode="socket"`` for Socket Mode) and yields a
``SlackDriver`` that talks to the bot like Slack does: signed Events API bodies, slash commands
and ``block_actions``, or Socket Mode envelopes. ``Sent`` is one message the bot put into a chat.

Calls and sent messages carry ``at`` (``time.monotonic()`` on arrival). ``enforce_limits``
makes ``chat.postMessage`` answer 429 like Slack when one channel gets more than one message a
second (or all together more than ``per_second``); ``limit_hits`` lists those answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import itertools
import json
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.messages import Responder
from bot.slack import SlackChannel

BOT_TOKEN = "xoxb-1111-2222-fakebottoken"
APP_TOKEN = "xapp-1-A0FAKE-3333-fakeapptoken"
SIGNING_SECRET = "fake-signing-secret-0123456789"
TEAM_ID = "T0CLUSTER"
TEAM_NAME = "Life Science Cluster"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0CLUSTER"
GROUP_CHANNEL = "C0MEMBERS"
_JSON_FIELDS = ("blocks", "files", "attachments", "metadata")


@dataclass
class Sent:
    """One message the bot put into a chat."""

    chat_id: str
    text: str  # the message `text` plus every section / context text, joined by "\n"
    buttons: list[tuple[str, str]]  # (label, token to tap it: the button's action_id)
    files: list[tuple[str, bytes]]
    thread: str | None
    message_id: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Call:
    """One request the fake received: the API method (or "upload" / "response_url")."""

    method: str
    params: dict[str, Any]
    token: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class LimitHit:
    """A post the fake refused with 429 because it came faster than ``enforce_limits`` allows."""

    channel: str
    at: float
    limit: str  # "overall" or "channel"


@dataclass
class _Limits:
    channel_interval_s: float | None
    per_second: int | None
    retry_after: int
    posts: deque[float] = field(default_factory=deque)
    last_in_channel: dict[str, float] = field(default_factory=dict)


@dataclass
class _Failure:
    status: int | str
    retry_after: float | None


@dataclass
class _Message:
    """What the fake remembers of a message, so a driver can press its buttons."""

    channel: str
    ts: str
    thread: str | None
    blocks: list[dict[str, Any]]
    text: str
    ephemeral: bool = False


@dataclass
class _Upload:
    filename: str
    length: int
    content: bytes | None = None
    done: bool = False


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    messages: dict[str, _Message] = field(default_factory=dict)
    acks: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, _Upload] = field(default_factory=dict)
    response_urls: dict[str, str] = field(default_factory=dict)


def _texts(text: str, blocks: list[dict[str, Any]]) -> str:
    parts = [text] if text else []
    for block in blocks:
        if block.get("type") == "section" and isinstance(block.get("text"), dict):
            parts.append(str(block["text"].get("text", "")))
        elif block.get("type") == "context":
            parts += [str(el.get("text", "")) for el in block.get("elements", []) if "text" in el]
    return "\n".join(parts)


def _buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (str(el["text"]["text"]), str(el["action_id"]))
        for block in blocks
        if block.get("type") == "actions"
        for el in block.get("elements", [])
        if el.get("type") == "button"
    ]


class FakeSlack:
    """Slack's Web API, upload and response URLs and Socket Mode, on 127.0.0.1."""

    def __init__(
        self,
        *,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        team_id: str = TEAM_ID,
        team_name: str = TEAM_NAME,
        bot_user_id: str = BOT_USER_ID,
        bot_id: str = BOT_ID,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self._state = _State()
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._stalls: dict[str, deque[float]] = defaultdict(deque)
        self._limits: _Limits | None = None
        self.limit_hits: list[LimitHit] = []
        self._ids = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._closing = asyncio.Event()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_routes(
            [
                web.post("/api/{method}", self._api),
                web.get("/api/{method}", self._api),
                web.post("/upload/{file_id}", self._upload),
                web.post("/response/{key}", self._response),
                web.get("/socket", self._socket),
            ]
        )
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._closing.set()
        for ws in list(self._sockets):
            with suppress(Exception):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """The Web API base URL, as ``CLUSTERBOT_SLACK_API_URL``."""
        return f"{self.url}/api/"

    # what happened

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self._state.calls if method is None or c.method == method]

    @property
    def sent(self) -> list[Sent]:
        return list(self._state.sent)

    @property
    def acks(self) -> list[dict[str, Any]]:
        """Socket Mode acknowledgements the client sent, in order."""
        return list(self._state.acks)

    @property
    def pending_uploads(self) -> int:
        """Files whose upload URL was issued but whose upload is not completed yet."""
        return sum(1 for u in self._state.uploads.values() if not u.done)

    def message(self, message_id: str) -> _Message:
        return self._state.messages[message_id]

    async def wait_for(self, predicate: Callable[[], bool], *, within: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (``within`` seconds is only a safety net)."""
        async with asyncio.timeout(within):
            while not predicate():
                self._changed.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)

    def _touch(self) -> None:
        self._changed.set()

    # failure injection

    def fail_next(
        self,
        method: str,
        *,
        status: int | str = 429,
        times: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Fail the next ``times`` calls of ``method``.

        ``status`` 429: HTTP 429 ``ratelimited`` with ``Retry-After`` (``retry_after`` or 1;
        a fraction is sent as it is, which the real Slack never does: slack_sdk then leaves the
        wait to the caller);
        another int: that HTTP status; a string: HTTP 200 ``{"ok": false, "error": status}``.
        ``method`` may also be "upload" or "response_url".
        """
        for _ in range(times):
            self._failures[method].append(_Failure(status, retry_after))

    def enforce_limits(
        self,
        *,
        channel_interval_s: float | None = 1.0,
        per_second: int | None = None,
        retry_after: int = 1,
    ) -> None:
        """From now on answer ``chat.postMessage`` beyond Slack's limits with 429.

        At most one post per ``channel_interval_s`` in a channel and ``per_second`` in any
        second overall (``None``: no such limit), counted on arrival; refused posts do not
        count and are noted in ``limit_hits``.
        """
        self._limits = _Limits(channel_interval_s, per_second, retry_after)

    def _over_limit(self, method: str, params: dict[str, Any], at: float) -> web.Response | None:
        limits = self._limits
        if limits is None or method != "chat.postMessage":
            return None
        channel = str(params.get("channel") or "")
        while limits.posts and limits.posts[0] <= at - 1.0:
            limits.posts.popleft()
        hit = None
        if limits.per_second is not None and len(limits.posts) >= limits.per_second:
            hit = "overall"
        elif (
            limits.channel_interval_s is not None
            and channel in limits.last_in_channel
            and at - limits.last_in_channel[channel] < limits.channel_interval_s
        ):
            hit = "channel"
        if hit is not None:
            self.limit_hits.append(LimitHit(channel, at, hit))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(limits.retry_after)},
            )
        limits.posts.append(at)
        limits.last_in_channel[channel] = at
        return None

    def stall_next(self, method: str, seconds: float) -> None:
        """Hold the next call of ``method`` for ``seconds`` before answering it normally."""
        self._stalls[method].append(seconds)

    async def _gate(self, method: str) -> web.Response | None:
        if self._stalls[method]:
            seconds = self._stalls[method].popleft()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), seconds)
        if not self._failures[method]:
            return None
        failure = self._failures[method].popleft()
        if failure.status == 429:
            wait = failure.retry_after if failure.retry_after is not None else 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(int(wait)) if float(wait).is_integer() else str(wait)},
            )
        if isinstance(failure.status, int):
            error = "internal_error" if failure.status >= 500 else "request_failed"
            return web.json_response({"ok": False, "error": error}, status=failure.status)
        return web.json_response({"ok": False, "error": failure.status})

    # ids

    def next_id(self) -> int:
        return next(self._ids)

    def next_ts(self) -> str:
        n = self.next_id()
        return f"{1_760_000_000 + n}.{n:06d}"

    def response_url(self, channel_id: str) -> str:
        """A fresh response_url whose posts land in ``channel_id``."""
        key = uuid.uuid4().hex
        self._state.response_urls[key] = channel_id
        return f"{self.url}/response/{key}"

    # Web API

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                params.update(json.loads(raw))
            elif request.content_type.startswith("multipart/"):
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
            else:
                params.update(dict(parse_qsl(raw.decode(), keep_blank_values=True)))
        for key in _JSON_FIELDS:
            if isinstance(params.get(key), str) and params[key][:1] in "[{":
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        call = Call(method, params, token)
        self._state.calls.append(call)
        self._touch()
        failed = await self._gate(method)
        if failed is not None:
            return failed
        limited = self._over_limit(method, params, call.at)
        if limited is not None:
            return limited
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        if token != expected:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        result = handler(params)
        self._touch()
        return web.json_response({"ok": True, **result})

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://cluster.slack.example/",
            "team": self.team_name,
            "user": "clusterbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        ws_url = self.url.replace("http://", "ws://")
        return {"url": f"{ws_url}/socket?ticket={uuid.uuid4().hex}"}

    def _post(self, params: dict[str, Any], *, ephemeral: bool = False) -> tuple[str, str]:
        channel = str(params.get("channel") or "")
        if channel.startswith("U"):
            channel = "D" + channel  # a user id posts into the DM with that user
        blocks = params.get("blocks") or []
        text = str(params.get("text") or "")
        thread = params.get("thread_ts") or None
        ts = self.next_ts()
        self._state.messages[ts] = _Message(channel, ts, thread, blocks, text, ephemeral)
        self._state.sent.append(
            Sent(channel, _texts(text, blocks), _buttons(blocks), [], thread, ts)
        )
        return channel, ts

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = self._post(params)
        return {"channel": channel, "ts": ts, "message": {"ts": ts, "text": params.get("text")}}

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self.next_ts()}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._state.messages.get(str(params.get("ts")))
        if message is not None:
            message.text = str(params.get("text") or "")
            message.blocks = params.get("blocks") or []
        return {
            "channel": params.get("channel"),
            "ts": params.get("ts"),
            "text": params.get("text"),
        }

    def _m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        return {
            "channel": {
                "id": channel,
                "name": channel.lower(),
                "is_im": channel.startswith("D"),
                "is_channel": channel.startswith("C"),
                "is_private": channel.startswith(("G", "D")),
            }
        }

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user") or "")
        return {
            "user": {
                "id": user,
                "team_id": self.team_id,
                "name": user.lower(),
                "real_name": f"Member {user}",
                "profile": {"display_name": f"member-{user.lower()}"},
            }
        }

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{self.next_id():08d}"
        length = int(params.get("length") or 0)
        self._state.uploads[file_id] = _Upload(str(params.get("filename") or ""), length)
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel_id") or None
        thread = params.get("thread_ts") or None
        out = []
        for item in params.get("files") or []:
            upload = self._state.uploads.get(item["id"])
            if upload is None:
                continue
            upload.done = True
            out.append({"id": item["id"], "name": upload.filename, "title": item.get("title")})
            if channel:
                self._state.sent.append(
                    Sent(
                        str(channel),
                        str(params.get("initial_comment") or ""),
                        [],
                        [(upload.filename, upload.content or b"")],
                        thread,
                        item["id"],
                    )
                )
        return {"files": out}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        content = await request.read()
        self._state.calls.append(Call("upload", {"file_id": file_id, "length": len(content)}))
        self._touch()
        failed = await self._gate("upload")
        if failed is not None:
            return failed
        upload = self._state.uploads.get(file_id)
        if upload is None:
            return web.Response(status=404, text="no such upload")
        upload.content = content
        return web.Response(text=f"OK - {len(content)}")

    async def _response(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        body = await request.json()
        self._state.calls.append(Call("response_url", body))
        self._touch()
        failed = await self._gate("response_url")
        if failed is not None:
            return failed
        channel = self._state.response_urls.get(key)
        if channel is None:
            return web.Response(status=404, text="expired_url")
        blocks = body.get("blocks") or []
        text = str(body.get("text") or "")
        mid = f"R{self.next_id():06d}"
        thread = body.get("thread_ts") or None
        ephemeral = body.get("response_type") != "in_channel"
        self._state.messages[mid] = _Message(channel, mid, thread, blocks, text, ephemeral)
        self._state.sent.append(
            Sent(channel, _texts(text, blocks), _buttons(blocks), [], thread, mid)
        )
        self._touch()
        return web.Response(text="ok")

    # Socket Mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self._touch()
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack"},
                "connection_info": {"app_id": APP_ID},
            }
        )
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    if "envelope_id" in data:
                        self._state.acks.append(data)
                        self._touch()
        finally:
            self._sockets.remove(ws)
            self._touch()
        return ws

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def push(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
        envelope_id: str | None = None,
    ) -> str:
        """Send a Socket Mode envelope (events_api, slash_commands, interactive)."""
        envelope_id = envelope_id or str(uuid.uuid4())
        await self.wait_for(lambda: self.connected)
        ws = next(ws for ws in reversed(self._sockets) if not ws.closed)
        await ws.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
                "retry_attempt": retry_attempt,
                "retry_reason": "timeout" if retry_attempt else "",
            }
        )
        return envelope_id

    def acked(self, envelope_id: str) -> bool:
        return any(a.get("envelope_id") == envelope_id for a in self._state.acks)


# --- the driver ----------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Text as Slack delivers what a person typed: ``&``, ``<``, ``>`` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sign(
    body: bytes, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The X-Slack-Request-Timestamp and X-Slack-Signature headers for ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class _Delivery:
    kind: str  # events_api | slash_commands | interactive
    payload: dict[str, Any]


class SlackDriver:
    """Talks to the bot like Slack does, over HTTP (signed requests) or Socket Mode."""

    channel = "slack"

    def __init__(
        self,
        *,
        fake: FakeSlack,
        adapter: SlackChannel,
        mode: str,
        events_url: str | None,
        signing_secret: str,
        command: str = "/cluster",
        settle: float = 0.1,
    ) -> None:
        self.fake = fake
        self.adapter = adapter
        self.mode = mode
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.command = command
        self.settle = settle
        self.last: _Delivery | None = None
        self.responses: list[tuple[int, str]] = []
        self._http = aiohttp.ClientSession()

    async def close(self) -> None:
        await self._http.close()

    # low level

    async def post_raw(
        self, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """POST exactly these bytes to the bot's events URL (HTTP mode)."""
        assert self.events_url is not None, "post_raw needs HTTP mode"
        data = io.BytesIO(body)  # aiohttp warns about large raw-bytes bodies
        async with self._http.post(self.events_url, data=data, headers=headers or {}) as resp:
            text = await resp.text()
        self.responses.append((resp.status, text))
        return resp.status, text

    async def deliver(self, kind: str, payload: dict[str, Any], *, retry_num: int = 0) -> None:
        """Hand one payload to the bot as Slack would; HTTP answers must be 200."""
        self.last = _Delivery(kind, payload)
        if self.mode == "socket":
            envelope_id = await self.fake.push(kind, payload, retry_attempt=retry_num)
            await self.fake.wait_for(lambda: self.fake.acked(envelope_id))
            return
        if kind == "events_api":
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json"}
        elif kind == "slash_commands":
            body = urlencode(payload).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        else:
            body = urlencode({"payload": json.dumps(payload)}).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers.update(sign(body, self.signing_secret))
        if retry_num:
            headers.update(
                {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "timeout"}
            )
        status, text = await self.post_raw(body, headers)
        assert status == 200, f"the bot answered HTTP {status}: {text}"

    def event_body(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        n = self.fake.next_id()
        return {
            "token": "legacy-verification-token",
            "team_id": self.fake.team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{n:010d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.fake.team_id,
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    async def _collect(self, before: int, expect: int, within: float) -> list[Sent]:
        try:
            await self.fake.wait_for(lambda: len(self.fake.sent) >= before + expect, within=within)
        except TimeoutError:
            got = [s.text[:80] for s in self.fake.sent[before:]]
            raise AssertionError(
                f"expected {expect} new message(s) from the bot within {within} s, got {got}"
            ) from None
        await asyncio.sleep(self.settle)
        with suppress(TimeoutError):  # a file whose upload is under way belongs to this answer
            await self.fake.wait_for(lambda: self.fake.pending_uploads == 0, within=2.0)
        return self.fake.sent[before:]

    # the harness API

    async def say(
        self,
        user_id: str,
        text: str,
        *,
        chat_id: str | None = None,
        group: bool = False,
        expect: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 (the harness API)
        mention: bool = True,
        thread: str | None = None,
        slash: bool | None = None,
    ) -> list[Sent]:
        """A message from ``user_id``: a DM, or a channel message (``group=True``).

        Text starting with "/" goes as the slash command ``/cluster <text>`` (Slack clients
        do not send "/calls" as a message); ``slash=False`` sends it as a plain message. The
        text is escaped the way Slack delivers it (``&`` -> ``&amp;``). In a
        channel the message mentions the bot (``mention=False``: it does not), and Slack's two
        events (``message`` and ``app_mention``) are both delivered.
        """
        before = len(self.fake.sent)
        chat = chat_id or (GROUP_CHANNEL if group else f"D{user_id}")
        text = slack_escape(text)  # Slack sends &, < and > typed by people as entities
        if slash if slash is not None else text.startswith("/"):
            await self.deliver("slash_commands", self.slash_payload(user_id, text, chat))
            return await self._collect(before, expect, timeout)
        ts = self.fake.next_ts()
        base: dict[str, Any] = {
            "user": user_id,
            "ts": ts,
            "event_ts": ts,
            "channel": chat,
            "team": self.fake.team_id,
        }
        if thread:
            base["thread_ts"] = thread
        if not group:
            event = {"type": "message", "text": text, "channel_type": "im", **base}
            await self.deliver("events_api", self.event_body(event))
            return await self._collect(before, expect, timeout)
        said = f"<@{self.fake.bot_user_id}> {text}" if mention else text
        await self.deliver(
            "events_api",
            self.event_body({"type": "message", "text": said, "channel_type": "channel", **base}),
        )
        if mention:
            await self.deliver(
                "events_api", self.event_body({"type": "app_mention", "text": said, **base})
            )
        return await self._collect(before, expect, timeout)

    def slash_payload(self, user_id: str, text: str, chat_id: str) -> dict[str, str]:
        return {
            "token": "legacy-verification-token",
            "team_id": self.fake.team_id,
            "team_domain": "cluster",
            "channel_id": chat_id,
            "channel_name": "directmessage" if chat_id.startswith("D") else chat_id.lower(),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": self.command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url(chat_id),
            "trigger_id": f"{self.fake.next_id()}.{uuid.uuid4().hex[:12]}",
        }

    async def tap(
        self,
        user_id: str,
        sent: Sent,
        label: str,
        *,
        expect: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 (the harness API)
    ) -> list[Sent]:
        """Press the button labelled ``label`` under ``sent``."""
        before = len(self.fake.sent)
        await self.deliver("interactive", self.action_payload(user_id, sent, label))
        return await self._collect(before, expect, timeout)

    def action_payload(self, user_id: str, sent: Sent, label: str) -> dict[str, Any]:
        tokens = [token for text, token in sent.buttons if text == label]
        assert tokens, f"no button {label!r} under the message; buttons: {sent.buttons}"
        message = self.fake.message(sent.message_id)
        block_id, element = next(
            (block.get("block_id", ""), el)
            for block in message.blocks
            if block.get("type") == "actions"
            for el in block["elements"]
            if el.get("action_id") == tokens[0]
        )
        action = {
            "type": "button",
            "action_id": element["action_id"],
            "block_id": block_id,
            "text": element["text"],
            "action_ts": self.fake.next_ts(),
            **({"value": element["value"]} if "value" in element else {}),
            **({"url": element["url"]} if "url" in element else {}),
        }
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.ephemeral,
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {
                "id": user_id,
                "username": user_id.lower(),
                "name": user_id.lower(),
                "team_id": self.fake.team_id,
            },
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "container": container,
            "trigger_id": f"{self.fake.next_id()}.{uuid.uuid4().hex[:12]}",
            "team": {"id": self.fake.team_id, "domain": "cluster"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": message.channel, "name": message.channel.lower()},
            "state": {"values": {}},
            "response_url": self.fake.response_url(message.channel),
            "actions": [action],
        }
        if not message.ephemeral:
            payload["message"] = {
                "type": "message",
                "user": self.fake.bot_user_id,
                "bot_id": self.fake.bot_id,
                "ts": message.ts,
                "text": message.text,
                "blocks": message.blocks,
                **({"thread_ts": message.thread} if message.thread else {}),
            }
            if message.thread:
                container["thread_ts"] = message.thread
        return payload

    async def redeliver_last(
        self,
        *,
        expect: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 (the harness API)
    ) -> list[Sent]:
        """Deliver the last payload again, same ``event_id`` / ``trigger_id`` (a Slack retry)."""
        assert self.last is not None, "nothing was delivered yet"
        before = len(self.fake.sent)
        await self.deliver(self.last.kind, self.last.payload, retry_num=1)
        return await self._collect(before, expect, timeout)


@asynccontextmanager
async def running_slack(
    responder: Responder,
    *,
    settings: Settings | None = None,
    request_timeout: float = 30.0,
    **settings_overrides: Any,
) -> AsyncIterator[SlackDriver]:
    """A fake Slack, a ``SlackChannel`` wired to it and started, and a driver for both.

    HTTP mode unless ``slack_mode="socket"`` is passed; the tokens and the signing secret
    default to the fake's; ``request_timeout`` is the adapter's Web API timeout.
    """
    values: dict[str, Any] = settings.model_dump() if settings is not None else {}
    values.update(
        slack_bot_token=BOT_TOKEN,
        slack_app_token=APP_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_mode="http",
    )
    values.update(settings_overrides)
    secret = values["slack_signing_secret"]
    secret = secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret
    fake = FakeSlack()
    await fake.start()
    if "slack_api_url" not in settings_overrides:
        values["slack_api_url"] = fake.api_url
    runner: web.AppRunner | None = None
    channel: SlackChannel | None = None
    driver: SlackDriver | None = None
    try:
        config = Settings(**values)
        channel = SlackChannel(settings=config, responder=responder, timeout=request_timeout)
        events_url = None
        if config.slack_mode == "http":
            app = web.Application()
            app.add_routes(channel.routes())
            runner = web.AppRunner(app, shutdown_timeout=1.0)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            events_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        await channel.start()
        driver = SlackDriver(
            fake=fake,
            adapter=channel,
            mode=config.slack_mode,
            events_url=events_url,
            signing_secret=str(secret or ""),
        )
        yield driver
    finally:
        if driver is not None:
            await driver.close()
        if channel is not None:
            await channel.stop()
        if runner is not None:
            await runner.cleanup()
        await fake.stop()


__all__ = [
    "APP_TOKEN",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "GROUP_CHANNEL",
    "SIGNING_SECRET",
    "Call",
    "FakeSlack",
    "LimitHit",
    "Sent",
    "SlackDriver",
    "running_slack",
    "sign",
    "slack_escape",
]
