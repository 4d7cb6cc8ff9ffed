"""A fake Telegram Bot API on 127.0.0.1 (aiohttp.web), and a harness that drives the real adapter.

``FakeTelegram`` serves ``/bot<token>/<method>`` for the methods python-telegram-bot needs
(getMe, getUpdates with long polling and offsets, sendMessage, sendDocument, answerCallbackQuery,
editMessageReplyMarkup, setWebhook, deleteWebhook, getWebhookInfo, close, logOut), records
every call in order, and fails or stalls on demand. When a webhook is set it pushes queued
updates to it (with the secret header) like Telegram does; otherwise ``getUpdates`` hands them
out. It runs in the test's own event loop::

    async with FakeTelegram() as fake:
        fake.fail_next("sendMessage", status=429, retry_after=3)
        fake.stall_next("sendMessage", 2.0)
        fake.enforce_limits()  # 429 beyond 30/s, 1/s per chat, 20/min per group
        ...
        assert fake.calls("answerCallbackQuery")

``running_telegram(responder, **overrides)`` starts the fake and a ``TelegramChannel`` pointed at
it the way ``clusterbot serve`` would (polling by default; ``telegram_mode="webhook"`` also
serves the channel's routes on 127.0.0.1 and lets the fake push to them) and yields a
``TelegramDriver`` whose ``say`` / ``tap`` / ``redeliver_last`` play the user.

Every call and sent message carries ``at``, the ``time.monotonic()`` of its arrival, so tests
can check the spacing of what the bot sent. ``inject_faults(FaultPlan(...))`` answers a seeded
random share of sends with 429, 5xx, a stall past the client's timeout or 403 (blocked), and
lists each in ``faults``; ``base_url_for("w1")`` gives a worker its own URL, so every call
says in ``via`` which worker made it. ``enforce_limits`` makes the fake answer 429 (with
``retry_after``) like Telegram when sends come faster than its limits; ``limit_hits`` lists
those answers.

Deliberate simplifications: ``allowed_updates`` is recorded but not used to filter (so tests
can show the adapter ignores what it did not ask for); chats are created on first use; a
stalled call is not delivered unless ``deliver=True``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import time
import zlib
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.messages import Responder
from bot.telegram import WEBHOOK_PATH, TelegramChannel

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmno"
DEFAULT_USERNAME = "clusterbot_test_bot"
DEFAULT_WEBHOOK_SECRET = "fake-webhook-secret_0123456789"
SETTLE_S = 0.1
# Parameters that stay strings (everything else is JSON-decoded, as the real API does).
_STRING_PARAMS = {
    "text",
    "caption",
    "parse_mode",
    "callback_query_id",
    "url",
    "secret_token",
    "inline_message_id",
    "business_connection_id",
    "ip_address",
}
_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(frozen=True)
class Call:
    """One request to the fake API: method, decoded parameters, uploaded files, answer status.

    Calls are recorded when they arrive, with ``status`` 0 until answered (a long poll or a
    stalled call in progress); ``at`` is ``time.monotonic()`` on arrival.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]
    status: int
    at: float = 0.0
    via: str = ""  # the worker tag of the URL it came through (``base_url_for``)
    answered_at: float = 0.0  # time.monotonic() when it was answered (0: not yet)


@dataclass(frozen=True)
class FaultPlan:
    """Faults chosen per message by a seeded RNG: the same seed fails the same sends.

    Each send of a chat is one draw, keyed by (seed, chat, how many sends that chat had
    before), so a retry gets a new draw. A blocked chat (``blocked`` of the chats, chosen
    by chat) always answers 403. A timeout stalls ``stall_s`` (set it past the client's
    timeout) and then answers 504 without delivering.
    """

    seed: int = 6
    rate_limited: float = 0.05
    retry_after: float = 1.0
    server_error: float = 0.01
    timeout: float = 0.005
    blocked: float = 0.02
    stall_s: float = 11.0

    def is_blocked(self, chat_id: str) -> bool:
        """Whether this chat blocked the bot."""
        return random.Random(f"{self.seed}:{chat_id}:blocked").random() < self.blocked

    def draw(self, chat_id: str, attempt: int) -> str | None:
        """The fault of the ``attempt``-th send to ``chat_id`` (0-based): a kind or None."""
        if self.is_blocked(chat_id):
            return "blocked"
        roll = random.Random(f"{self.seed}:{chat_id}:{attempt}").random()
        for kind, share in (
            ("rate_limited", self.rate_limited),
            ("server_error", self.server_error),
            ("timeout", self.timeout),
        ):
            if roll < share:
                return kind
            roll -= share
        return None


@dataclass(frozen=True)
class Fault:
    """A fault the plan injected: which chat, what, when it arrived and was answered."""

    chat_id: str
    kind: str
    at: float
    answered_at: float
    via: str
    retry_after: float | None = None


@dataclass
class Sent:
    """One message the bot put into a chat."""

    chat_id: str
    text: str
    buttons: list[tuple[str, str]]
    files: list[tuple[str, bytes]]
    thread: str | None
    message_id: str
    at: float = 0.0  # time.monotonic() when the fake took it


@dataclass
class _Failure:
    status: int
    retry_after: float | None
    description: str | None


@dataclass
class _Stall:
    seconds: float
    deliver: bool


@dataclass
class _Limits:
    per_second: int | None
    chat_interval_s: float | None
    group_per_minute: int | None
    retry_after: int
    sends: deque[float] = field(default_factory=deque)  # accepted, last second
    last_in_chat: dict[str, float] = field(default_factory=dict)
    in_group: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))


@dataclass(frozen=True)
class LimitHit:
    """A send the fake refused with 429 because it came faster than ``enforce_limits`` allows."""

    chat_id: str
    at: float
    limit: str  # "overall", "chat" or "group"


@dataclass(eq=False)
class _Queued:
    update: dict[str, Any]
    handed_out: bool = False  # given to the bot by getUpdates or a webhook push


@dataclass
class _WebhookState:
    url: str = ""
    secret: str | None = None
    allowed_updates: list[str] | None = None
    pushed: list[tuple[int, int]] = field(default_factory=list)  # (update_id, status)


class FakeTelegram:
    """A recording, scriptable Telegram Bot API for tests.

    Args:
        token: The only token accepted; others get 401.
        username: The bot's username (``getMe``).
        bot_id: The bot's user id.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = DEFAULT_USERNAME,
        bot_id: int | None = None,
    ) -> None:
        self.token = token
        self.username = username
        self.bot_id = bot_id if bot_id is not None else int(token.split(":")[0])
        self.sent: list[Sent] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.chats: dict[str, dict[str, Any]] = {}
        self.blocked: set[str] = set()
        self.webhook = _WebhookState()
        self.limit_hits: list[LimitHit] = []
        self.faults: list[Fault] = []
        self._plan: FaultPlan | None = None
        self._attempts: dict[str, int] = defaultdict(int)
        self._limits: _Limits | None = None
        self._calls: list[Call] = []
        self._queue: list[_Queued] = []
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._stalls: dict[str, deque[_Stall]] = defaultdict(deque)
        self._next_update_id = 1000
        self._next_message_id = 1
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._closing = False
        self._pusher: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{via}/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._not_found)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Release long polls, stop pushing, stop listening."""
        self._closing = True
        await self._notify()
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The API URL ending in ``/bot`` (``CLUSTERBOT_TELEGRAM_API_URL``)."""
        return f"http://127.0.0.1:{self._port}/bot"

    def base_url_for(self, via: str) -> str:
        """An API URL whose calls are recorded with ``via`` (one per worker process)."""
        return f"http://127.0.0.1:{self._port}/{via}/bot"

    def inject_faults(self, plan: FaultPlan | None) -> None:
        """From now on fail sends as ``plan`` draws them (None: stop)."""
        self._plan = plan

    # -- scripting ----------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call received so far (or those to one method), oldest first."""
        return [c for c in self._calls if method is None or c.method == method]

    def enqueue_update(self, update: dict[str, Any]) -> int:
        """Queue an update (an ``update_id`` is assigned when missing); returns its id."""
        return int(self._enqueue(update).update["update_id"])

    def _enqueue(self, update: dict[str, Any]) -> _Queued:
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        queued = _Queued(update)
        self._queue.append(queued)
        for chat in _chats_in(update):
            self.chats.setdefault(str(chat["id"]), chat)
        if self.webhook.url:
            self._ensure_pusher()
        self._kick()
        return queued

    def next_message_id(self) -> int:
        """A fresh message id (shared by users' and the bot's messages)."""
        self._next_message_id += 1
        return self._next_message_id

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with an error like Telegram's.

        429 answers carry ``parameters.retry_after`` (1 second unless given).
        """
        for _ in range(times):
            self._failures[method].append(_Failure(status, retry_after, description))

    def stall_next(self, method: str, seconds: float, *, deliver: bool = False) -> None:
        """Hold the next call to ``method`` for ``seconds``; it is not carried out unless
        ``deliver`` (the client has usually timed out by then)."""
        self._stalls[method].append(_Stall(seconds, deliver))

    def enforce_limits(
        self,
        *,
        per_second: int | None = 30,
        chat_interval_s: float | None = 1.0,
        group_per_minute: int | None = 20,
        retry_after: int = 1,
    ) -> None:
        """From now on answer sends beyond Telegram's limits with 429 and ``retry_after``.

        Counted on arrival of ``sendMessage`` / ``sendDocument``: at most ``per_second`` in
        any second overall, one per ``chat_interval_s`` in a chat, ``group_per_minute`` in any
        minute in a group (negative chat id). Refused sends do not count; each is noted in
        ``limit_hits``. ``None`` turns a limit off.
        """
        self._limits = _Limits(per_second, chat_interval_s, group_per_minute, retry_after)

    def _over_limit(self, method: str, params: dict[str, Any], at: float) -> web.Response | None:
        limits = self._limits
        if limits is None or method not in ("sendMessage", "sendDocument"):
            return None
        chat = str(params.get("chat_id", ""))
        while limits.sends and limits.sends[0] <= at - 1.0:
            limits.sends.popleft()
        group = limits.in_group[chat] if chat.startswith("-") else None
        while group and group[0] <= at - 60.0:
            group.popleft()
        hit = None
        if limits.per_second is not None and len(limits.sends) >= limits.per_second:
            hit = "overall"
        elif (
            limits.chat_interval_s is not None
            and chat in limits.last_in_chat
            and at - limits.last_in_chat[chat] < limits.chat_interval_s
        ):
            hit = "chat"
        elif (
            group is not None
            and limits.group_per_minute is not None
            and len(group) >= limits.group_per_minute
        ):
            hit = "group"
        if hit is not None:
            self.limit_hits.append(LimitHit(chat, at, hit))
            return _error(429, retry_after=limits.retry_after)
        limits.sends.append(at)
        limits.last_in_chat[chat] = at
        if group is not None:
            group.append(at)
        return None

    def block(self, chat_id: str) -> None:
        """From now on, sending to ``chat_id`` answers 403 (the user blocked the bot)."""
        self.blocked.add(str(chat_id))

    async def wait_for_calls(self, method: str, count: int = 1, *, within: float = 10.0) -> None:
        """Wait (up to ``within`` seconds) until ``method`` was called ``count`` times."""
        await self._wait(lambda: len(self.calls(method)) >= count, within)

    async def wait_for_sent(self, count: int, *, within: float = 10.0) -> None:
        """Wait (up to ``within`` seconds) until the bot sent ``count`` messages in total."""
        await self._wait(lambda: len(self.sent) >= count, within)

    # -- internals ----------------------------------------------------------------------------

    async def _wait(self, predicate: Any, within: float) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _kick(self) -> None:
        with contextlib.suppress(RuntimeError):
            task = asyncio.get_running_loop().create_task(self._notify())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _confirm(self, offset: int) -> None:
        self._queue = [
            q for q in self._queue if not (q.handed_out and q.update["update_id"] < offset)
        ]

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        via = request.match_info.get("via", "")
        at = time.monotonic()
        params, files = await _read_params(request)
        index = len(self._calls)
        self._calls.append(Call(method, params, files, 0, at, via))  # status 0: not answered yet
        self._kick()
        response = await self._planned_fault(method, request.match_info["token"], params, at, via)
        if response is None:
            response = await self._answer(method, request.match_info["token"], params, files, at)
        self._calls[index] = Call(
            method, params, files, response.status, at, via, time.monotonic()
        )
        self._kick()
        return response

    async def _planned_fault(
        self, method: str, token: str, params: dict[str, Any], at: float, via: str
    ) -> web.Response | None:
        """The answer ``inject_faults`` chose for this send, or None to answer normally."""
        plan = self._plan
        if plan is None or token != self.token or method not in ("sendMessage", "sendDocument"):
            return None
        chat = str(params.get("chat_id", ""))
        attempt = self._attempts[chat]
        self._attempts[chat] += 1
        kind = plan.draw(chat, attempt)
        if kind is None:
            return None
        retry_after = None
        if kind == "blocked":
            response = _error(403)
        elif kind == "rate_limited":
            retry_after = plan.retry_after
            response = _error(429, retry_after=retry_after)
        elif kind == "server_error":
            response = _error(502)
        else:
            with contextlib.suppress(TimeoutError):  # released early when the fake stops
                await self._wait(lambda: self._closing, plan.stall_s)
            response = _error(504, "Gateway Timeout")
        self.faults.append(Fault(chat, kind, at, time.monotonic(), via, retry_after))
        return response

    async def _answer(
        self,
        method: str,
        token: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes]],
        at: float = 0.0,
    ) -> web.Response:
        if token != self.token:
            return _error(401)
        stall = self._stalls[method].popleft() if self._stalls[method] else None
        failure = self._failures[method].popleft() if self._failures[method] else None
        if stall is not None:
            with contextlib.suppress(TimeoutError):  # released early when the fake stops
                await self._wait(lambda: self._closing, stall.seconds)
            if not stall.deliver or self._closing:
                return _error(504, "Gateway Timeout")
        if failure is not None:
            return _error(failure.status, failure.description, failure.retry_after)
        limited = self._over_limit(method, params, at)
        if limited is not None:
            return limited
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404)
        response: web.Response = await handler(params, files)
        return response

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        key = str(chat_id)
        if key not in self.chats:
            chat: dict[str, Any]
            if key.lstrip("-").isdigit() and not key.startswith("-"):
                chat = {"id": int(key), "type": "private", "first_name": f"User{key}"}
            elif key.lstrip("-").isdigit():
                chat = {"id": int(key), "type": "supergroup", "title": "Test group"}
            else:  # "@channelusername"
                chat = {"id": -1009999999999, "type": "channel", "username": key.lstrip("@")}
            self.chats[key] = chat
        return self.chats[key]

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Clusterbot",
            "username": self.username,
        }

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat = self._chat(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": self.next_message_id(),
            "from": self._bot_user(),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(str(chat["id"]), str(message["message_id"]))] = message
        return message

    def _refuse(self, params: dict[str, Any]) -> web.Response | None:
        chat_id = str(params.get("chat_id", ""))
        if not chat_id:
            return _error(400, "Bad Request: chat_id is empty")
        if chat_id in self.blocked:
            return _error(403)
        return None

    def _add_sent(self, message: dict[str, Any], files: list[tuple[str, bytes]]) -> None:
        buttons: list[tuple[str, str]] = []
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for key in row:
                buttons.append((key["text"], key.get("callback_data") or key.get("url", "")))
        self.sent.append(
            Sent(
                chat_id=str(message["chat"]["id"]),
                text=message.get("text") or message.get("caption") or "",
                buttons=buttons,
                files=files,
                thread=None,
                message_id=str(message["message_id"]),
                at=time.monotonic(),
            )
        )

    # -- API methods (named _api_<method>) ------------------------------------------------------

    async def _api_getMe(self, params: dict[str, Any], files: Any) -> web.Response:
        return _ok(
            {
                **self._bot_user(),
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    async def _api_getUpdates(self, params: dict[str, Any], files: Any) -> web.Response:
        if self.webhook.url:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        self._confirm(offset)

        def ready() -> bool:
            return self._closing or bool(self._queue)

        with contextlib.suppress(TimeoutError):
            await self._wait(ready, timeout)
        self._confirm(offset)
        batch = [] if self._closing else self._queue[:limit]
        for queued in batch:
            queued.handed_out = True
        self._kick()
        return _ok([q.update for q in batch])

    async def _api_sendMessage(self, params: dict[str, Any], files: Any) -> web.Response:
        refused = self._refuse(params)
        if refused is not None:
            return refused
        text = str(params.get("text", ""))
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _error(400, "Bad Request: message is too long")
        message = self._new_message(params, text=text)
        self._add_sent(message, [])
        return _ok(message)

    async def _api_sendDocument(
        self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> web.Response:
        refused = self._refuse(params)
        if refused is not None:
            return refused
        if "document" not in files:
            return _error(400, "Bad Request: there is no document in the request")
        filename, content = files["document"]
        document = {
            "file_id": f"doc-{self._next_message_id}",
            "file_unique_id": f"u{self._next_message_id}",
            "file_name": filename,
            "file_size": len(content),
        }
        extra = {"caption": params["caption"]} if params.get("caption") else {}
        message = self._new_message(params, document=document, **extra)
        self._add_sent(message, [(filename, content)])
        return _ok(message)

    async def _api_answerCallbackQuery(self, params: dict[str, Any], files: Any) -> web.Response:
        return _ok(True)

    async def _api_editMessageReplyMarkup(
        self, params: dict[str, Any], files: Any
    ) -> web.Response:
        key = (str(params.get("chat_id")), str(params.get("message_id")))
        message = self.messages.get(key)
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return _ok(message)

    async def _api_setWebhook(self, params: dict[str, Any], files: Any) -> web.Response:
        url = str(params.get("url", ""))
        self.webhook.url = url
        self.webhook.secret = params.get("secret_token")
        self.webhook.allowed_updates = params.get("allowed_updates")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if url:
            self._ensure_pusher()
        return _ok(True)

    async def _api_deleteWebhook(self, params: dict[str, Any], files: Any) -> web.Response:
        self.webhook.url = ""
        self.webhook.secret = None
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return _ok(True)

    async def _api_getWebhookInfo(self, params: dict[str, Any], files: Any) -> web.Response:
        return _ok(
            {
                "url": self.webhook.url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._queue),
                "allowed_updates": self.webhook.allowed_updates or [],
            }
        )

    async def _api_close(self, params: dict[str, Any], files: Any) -> web.Response:
        return _ok(True)

    async def _api_logOut(self, params: dict[str, Any], files: Any) -> web.Response:
        return _ok(True)

    # -- webhook pushes -----------------------------------------------------------------------

    def _ensure_pusher(self) -> None:
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.get_running_loop().create_task(self._push_loop())

    async def _push_loop(self) -> None:
        while not self._closing:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: self._closing or (bool(self.webhook.url) and bool(self._queue))
                )
            if self._closing:
                return
            queued = self._queue.pop(0)
            status = await self._push(queued.update)
            self.webhook.pushed.append((int(queued.update["update_id"]), status))
            queued.handed_out = True
            await self._notify()

    async def _push(self, update: dict[str, Any]) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        if self.webhook.secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook.secret
        status = 0
        for attempt in range(5):  # Telegram retries failed deliveries; so do we, briefly
            try:
                async with self._session.post(
                    self.webhook.url, data=json.dumps(update), headers=headers
                ) as response:
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            if 200 <= status < 300 or 400 <= status < 500:
                return status
            await asyncio.sleep(0.05 * (attempt + 1))
        return status


def _chats_in(update: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for value in update.values():
        if isinstance(value, dict):
            if isinstance(value.get("chat"), dict) and "id" in value["chat"]:
                found.append(value["chat"])
            inner = value.get("message")
            if isinstance(inner, dict) and isinstance(inner.get("chat"), dict):
                found.append(inner["chat"])
    return found


def _decode(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(
    request: web.Request,
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    params: dict[str, Any] = {k: _decode(k, v) for k, v in request.query.items()}
    files: dict[str, tuple[str, bytes]] = {}
    ctype = request.content_type
    if ctype == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename:
                files[part.name] = (part.filename, bytes(await part.read()))
            else:
                params[part.name] = _decode(part.name, await part.text())
    elif ctype == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.can_read_body:
        form = await request.post()
        params.update({k: _decode(k, str(v)) for k, v in form.items()})
    return params, files


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(
    status: int, description: str | None = None, retry_after: float | None = None
) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": status,
        "description": description or _DESCRIPTIONS.get(status, "Error"),
    }
    if status == 429:
        wait = retry_after if retry_after is not None else 1
        body["parameters"] = {"retry_after": int(wait) if float(wait).is_integer() else wait}
        if description is None:
            body["description"] = (
                f"Too Many Requests: retry after {body['parameters']['retry_after']}"
            )
    return web.json_response(body, status=status)


# -- the harness --------------------------------------------------------------------------------


def telegram_user_id(user_id: str) -> int:
    """The numeric Telegram id the driver uses for a test user name ("1001" stays 1001)."""
    if user_id.lstrip("-").isdigit():
        return int(user_id)
    return 7_000_000 + zlib.crc32(user_id.encode()) % 1_000_000


def _entities(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities, with offsets in UTF-16 code units like Telegram."""

    def u16(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    found = []
    for i, ch in enumerate(text):
        if ch not in "/@" or (i > 0 and not text[i - 1].isspace()):
            continue
        j = i + 1
        while j < len(text) and (text[j].isalnum() or text[j] in "_@"):
            j += 1
        if j - i < 2:
            continue
        kind = "bot_command" if ch == "/" else "mention"
        if kind == "bot_command" and i != 0:
            continue
        found.append({"type": kind, "offset": u16(text[:i]), "length": u16(text[i:j])})
    return found


class TelegramDriver:
    """Plays Telegram users against a running ``TelegramChannel`` through ``FakeTelegram``."""

    channel = "telegram"

    def __init__(self, *, fake: FakeTelegram, adapter: TelegramChannel) -> None:
        self.fake = fake
        self.adapter = adapter
        self.group_chat_id = "-1001000000001"
        self._last_update: dict[str, Any] | None = None

    @property
    def bot_username(self) -> str:
        """The bot's username, for ``@mentions`` in group messages."""
        return self.fake.username

    def user(self, user_id: str) -> dict[str, Any]:
        """The Telegram ``User`` object the driver sends for ``user_id``."""
        return {
            "id": telegram_user_id(user_id),
            "is_bot": False,
            "first_name": f"User{user_id}",
            "username": f"user_{user_id}",
            "language_code": "en",
        }

    async def say(
        self,
        user_id: str,
        text: str,
        *,
        chat_id: str | None = None,
        group: bool = False,
        expect: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - the shared harness API
        reply_to: Sent | None = None,
    ) -> list[Sent]:
        """Send ``text`` from ``user_id`` and return every message the bot sent after it."""
        user = self.user(user_id)
        if group:
            cid = int(chat_id or self.group_chat_id)
            chat = {"id": cid, "type": "supergroup", "title": "Test group"}
        else:
            cid = int(chat_id) if chat_id else user["id"]
            chat = {"id": cid, "type": "private", "first_name": user["first_name"]}
            chat["username"] = user["username"]
        message: dict[str, Any] = {
            "message_id": self.fake.next_message_id(),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        entities = _entities(text)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = self.fake.messages[
                (reply_to.chat_id, reply_to.message_id)
            ]
        return await self._deliver({"message": message}, expect, timeout)

    async def tap(
        self,
        user_id: str,
        sent: Sent,
        label: str,
        *,
        expect: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - the shared harness API
    ) -> list[Sent]:
        """Press the button labelled ``label`` under ``sent``; returns the bot's new messages."""
        tokens = [token for lab, token in sent.buttons if lab == label]
        if not tokens:
            raise AssertionError(f"no button {label!r} under message: {sent.buttons}")
        message = self.fake.messages[(sent.chat_id, sent.message_id)]
        button = next(
            key
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for key in row
            if key["text"] == label
        )
        if "callback_data" not in button:
            raise AssertionError(f"button {label!r} is a link, it cannot be tapped")
        query = {
            "id": str(self.fake.next_message_id() * 7919),
            "from": self.user(user_id),
            "chat_instance": f"ci{sent.chat_id}",
            "message": message,
            "data": button["callback_data"],
        }
        return await self._deliver({"callback_query": query}, expect, timeout)

    async def redeliver_last(
        self,
        *,
        expect: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - the shared harness API
    ) -> list[Sent]:
        """Deliver the last update again with the same ``update_id``."""
        if self._last_update is None:
            raise AssertionError("nothing was delivered yet")
        return await self._deliver(dict(self._last_update), expect, timeout)

    async def send_raw(
        self,
        update: dict[str, Any],
        *,
        expect: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - like say()
    ) -> list[Sent]:
        """Deliver an arbitrary update dict (e.g. a malformed one); returns new messages."""
        return await self._deliver(update, expect, timeout)

    async def _deliver(self, update: dict[str, Any], expect: int, within: float) -> list[Sent]:
        before = len(self.fake.sent)
        queued = self.fake._enqueue(update)
        self._last_update = dict(queued.update)
        await self.fake._wait(lambda: queued.handed_out, within)
        if expect > 0:
            await self.fake.wait_for_sent(before + expect, within=within)
        await asyncio.sleep(SETTLE_S)
        return self.fake.sent[before:]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def running_telegram(
    responder: Responder,
    *,
    settings: Settings | None = None,
    request_timeout: float = 10.0,
    **settings_overrides: Any,
) -> AsyncIterator[TelegramDriver]:
    """Start ``FakeTelegram`` and a ``TelegramChannel`` on it; yield a driver; stop both.

    Settings point at the fake (token and API URL) plus ``settings_overrides``. With
    ``telegram_mode="webhook"`` the channel's routes are served on 127.0.0.1 and the webhook
    URL and secret are filled in unless given.
    """
    fake = FakeTelegram()
    await fake.start()
    runner: web.AppRunner | None = None
    adapter: TelegramChannel | None = None
    try:
        values: dict[str, Any] = settings.model_dump() if settings is not None else {}
        values.update(telegram_token=fake.token, telegram_api_url=fake.base_url)
        values.update(settings_overrides)
        sock: socket.socket | None = None
        if values.get("telegram_mode") == "webhook":
            sock = _free_socket()
            port = sock.getsockname()[1]
            if not values.get("telegram_webhook_url"):
                values["telegram_webhook_url"] = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            if not values.get("telegram_webhook_secret"):
                values["telegram_webhook_secret"] = DEFAULT_WEBHOOK_SECRET
        full = Settings(**values)
        adapter = TelegramChannel(
            settings=full, responder=responder, request_timeout=request_timeout
        )
        if sock is not None:
            web_app = web.Application()
            web_app.add_routes(adapter.routes())
            runner = web.AppRunner(web_app, shutdown_timeout=1.0)
            await runner.setup()
            await web.SockSite(runner, sock).start()
        await adapter.start()
        yield TelegramDriver(fake=fake, adapter=adapter)
    finally:
        if adapter is not None:
            await adapter.stop()
        if runner is not None:
            await runner.cleanup()
        await fake.stop()


__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USERNAME",
    "DEFAULT_WEBHOOK_SECRET",
    "Call",
    "FakeTelegram",
    "Fault",
    "FaultPlan",
    "LimitHit",
    "Sent",
    "TelegramDriver",
    "running_telegram",
    "telegram_user_id",
]
