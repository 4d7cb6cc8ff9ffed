"""The Slack adapter: events, slash commands and button presses in, Block Kit replies out.

It only converts. ``to_incoming`` turns a Slack payload into an ``Incoming``, the responder
decides, ``render`` turns the ``Reply`` into Block Kit (mrkdwn with ``&``, ``<``, ``>``
escaped, so no text can ping ``<!channel>`` or forge a link) and ``SlackChannel.send`` posts
it. ``SlackChannel`` runs slack-bolt's ``AsyncApp`` in Socket Mode (default) or HTTP mode
(signed requests on ``POST /slack/events``) on the event loop it shares with Telegram.

Where answers go: direct messages in the DM (in its thread if the message was threaded),
mentions in the mention's thread, slash commands through the command's ``response_url``
(ephemeral in channels, in the conversation in DMs), button presses in the button's channel
and thread. Slack redelivers an event with the same ``event_id``; the adapter passes that id
(``trigger_id`` for commands and buttons) so the core answers it once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
import secrets
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, Final

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.errors import ConfigurationError, DeliveryError
from bot.messages import Button, ChatType, Incoming, Reply, Responder, SourceRef

logger = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 1024 * 1024
MAX_ID: Final = 128  # characters of a user, conversation, event or trigger id (columns hold 128)
SECTION_CHARS: Final = 3000
BLOCKS_PER_MESSAGE: Final = 50
BUTTONS_PER_BLOCK: Final = 25
LABEL_CHARS: Final = 75
FALLBACK_CHARS: Final = 300
MAX_RETRY_WAIT_S: Final = 5
DRAIN_S: Final = 10.0
LINK_ACTION: Final = "_link"
APOLOGY: Final = "Sorry, something went wrong on my side. Reference: {ref}."

# Errors that mean the conversation is gone for us: retrying cannot help.
_PERMANENT = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "account_inactive",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
    }
)
_BAD_TOKEN = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)
# Sending errors that no message can get past: the token lacks what posting needs.
_FATAL_SEND = frozenset({"missing_scope", "team_access_not_granted", "no_permission"})
# The message itself was refused: retrying it cannot help, but the person is still reachable.
_BAD_MESSAGE = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
        "invalid_attachments",
    }
)
_MENTION = "<@{user}(?:\\|[^>]*)?>"
_LINK = re.compile(r"<((?:https?|mailto|tel):[^|>]*)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")

Block = dict[str, Any]
Deliver = Callable[[Reply], Awaitable[None]]


def escape(text: str) -> str:
    """Text made inert for mrkdwn: ``&``, ``<`` and ``>`` become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- Slack payload -> Incoming -------------------------------------------------------------


def plain(text: str) -> str:
    """Text as the person typed it, from Slack's message format.

    Links become their label (or URL), channel references ``#name``, ``<!here>`` ``@here``;
    entities are decoded (``R&amp;D`` -> ``R&D``); user mentions stay ``<@U...>``.
    """
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def to_incoming(
    body: Mapping[str, object],
    *,
    bot_user_id: str | None = None,
    commands: Collection[str] = (),
) -> Incoming | None:
    """The ``Incoming`` for a Slack payload, or None when it is not for the bot.

    Args:
        body: an Events API body (``event_callback``), a slash command's fields or a
            ``block_actions`` payload, as bolt parsed it (HTTP and Socket Mode alike).
        bot_user_id: the bot's user id: its mention is stripped, its own messages ignored.
        commands: command names the core knows: ``/cluster calls`` becomes command ``calls``.

    Returns:
        The message, or None for channel messages without a mention, bot messages, edits,
        link buttons and payloads of other kinds.
    """
    data: Mapping[str, Any] = body
    if data.get("type") == "event_callback":
        return _from_event(data, bot_user_id)
    if data.get("type") == "block_actions":
        return _from_action(data)
    if isinstance(data.get("command"), str):
        return _from_command(data, commands)
    return None


def reply_thread(body: Mapping[str, object]) -> str | None:
    """The thread a reply to this payload belongs in (None: the conversation itself)."""
    data: Mapping[str, Any] = body
    if data.get("type") == "event_callback":
        event = _mapping(data.get("event"))
        if event.get("type") == "app_mention":
            return _str(event.get("thread_ts")) or _str(event.get("ts"))
        return _str(event.get("thread_ts"))
    if data.get("type") == "block_actions":
        message = _mapping(data.get("message"))
        return _str(message.get("thread_ts")) or _str(
            _mapping(data.get("container")).get("thread_ts")
        )
    return None


def _from_event(data: Mapping[str, Any], bot_user_id: str | None) -> Incoming | None:
    event = _mapping(data.get("event"))
    user, chat, text = _id(event.get("user")), _id(event.get("channel")), event.get("text")
    if not user or not chat or not isinstance(text, str) or event.get("bot_id"):
        return None
    if bot_user_id and user == bot_user_id:
        return None
    if event.get("type") == "message":
        # Only direct messages; in channels the bot answers its mentions (app_mention).
        if event.get("subtype") not in (None, "file_share") or event.get("channel_type") != "im":
            return None
        chat_type: ChatType = "private"
    elif event.get("type") == "app_mention":
        chat_type = _chat_type(chat)
    else:
        return None
    if bot_user_id:
        text = re.sub(_MENTION.format(user=re.escape(bot_user_id)), " ", text)
    text = _clean(plain(text)).strip()
    if not text:
        if event.get("type") != "app_mention":
            return None
        text = "/help"
    profile = _mapping(event.get("user_profile"))
    return Incoming.parse(
        channel="slack",
        user_id=user,
        chat_id=chat,
        text=text,
        chat_type=chat_type,
        event_id=_id(data.get("event_id")),
        display_name=_str(profile.get("display_name")) or _str(profile.get("real_name")),
    )


def _from_command(data: Mapping[str, Any], commands: Collection[str]) -> Incoming | None:
    user, chat = _id(data.get("user_id")), _id(data.get("channel_id"))
    if not user or not chat:
        return None
    text = _clean(plain(str(data.get("text") or ""))).strip()
    first = text.split(maxsplit=1)[0] if text else ""
    if not text:
        text = "/help"
    elif not first.startswith("/") and first.lower() in commands:
        text = "/" + text
    return Incoming.parse(
        channel="slack",
        user_id=user,
        chat_id=chat,
        text=text,
        chat_type=_chat_type(chat),
        event_id=_id(data.get("trigger_id")),
        display_name=_str(data.get("user_name")),
    )


def _from_action(data: Mapping[str, Any]) -> Incoming | None:
    actions = data.get("actions")
    if not isinstance(actions, list) or not actions:
        return None
    action = _mapping(actions[0])
    name, sep, _index = (_str(action.get("action_id")) or "").rpartition(":")
    user = _mapping(data.get("user"))
    user_id = _id(user.get("id"))
    chat = _id(_mapping(data.get("channel")).get("id")) or _id(
        _mapping(data.get("container")).get("channel_id")
    )
    if not sep or not name or name == LINK_ACTION or not user_id or not chat:
        return None
    return Incoming.pressed(
        channel="slack",
        user_id=user_id,
        chat_id=chat,
        action=name,
        payload=_clean(_str(action.get("value")) or ""),
        chat_type=_chat_type(chat),
        event_id=_id(data.get("trigger_id")),
        display_name=_str(user.get("username")) or _str(user.get("name")),
    )


_STRINGS = ("type", "command", "text", "trigger_id", "event_id", "user_id", "channel_id")
_OBJECTS = ("user", "channel", "team", "container", "view", "enterprise", "message")
_EVENT_STRINGS = ("type", "subtype", "channel_type", "user", "channel", "text", "ts", "thread_ts")


def _well_formed(body: Mapping[str, Any]) -> bool:
    """Whether the fields bolt and this adapter read have the types Slack promises.

    bolt trusts a payload's shape: an ``actions`` that is not a list of objects or an event
    ``type`` that is not a string breaks its listener matching, and a ``response_url`` that
    is not a URL fails only when the answer is sent. Such a request is refused up front.
    """
    event = body.get("event", {})
    actions = body.get("actions", [{"action_id": ""}])
    url = body.get("response_url", "https://")
    return (
        all(isinstance(body.get(k, ""), str) for k in _STRINGS)
        and all(isinstance(body.get(k), dict | None) for k in _OBJECTS)
        and isinstance(event, dict)
        and all(isinstance(event.get(k), str | None) for k in _EVENT_STRINGS)
        and isinstance(actions, list)
        and bool(actions)
        and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        and isinstance(url, str)
        and url.startswith(("https://", "http://"))
        and ("command" not in body or "response_url" in body)
    )


def _chat_type(channel_id: str) -> ChatType:
    return "private" if channel_id.startswith("D") else "group"


def _clean(text: str) -> str:
    """Text the database can hold: lone surrogates (from JSON escapes) become "?", NULs go."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _id(value: object) -> str | None:
    """An id as Slack makes them (a few dozen characters), else None: a longer one is junk."""
    found = _str(value)
    return found if found is not None and len(found) <= MAX_ID else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: object) -> str | None:
    return _clean(value) or None if isinstance(value, str) else None


# --- Reply -> Block Kit --------------------------------------------------------------------


def render(reply: Reply) -> dict[str, object]:
    """A reply as one Block Kit message: ``{"text": fallback, "blocks": [...]}``.

    The text is cut into sections of at most 3000 characters, sources follow as a numbered
    list, buttons as actions blocks. ``SlackChannel.send`` posts messages of 50 blocks at most.
    """
    blocks = _blocks(reply)
    return {"text": _fallback(blocks), "blocks": blocks}


def _blocks(reply: Reply) -> list[Block]:
    blocks = [_section(piece) for piece in _split(escape(reply.text.strip()), SECTION_CHARS)]
    if reply.sources:
        lines = ["*Sources*", *(_source_line(ref) for ref in reply.sources)]
        blocks += [_section(piece) for piece in _split("\n".join(lines), SECTION_CHARS)]
    blocks += _action_blocks(reply.buttons)
    return blocks


def _messages(reply: Reply) -> list[tuple[str, list[Block]]]:
    blocks = _blocks(reply)
    batches = [
        blocks[i : i + BLOCKS_PER_MESSAGE] for i in range(0, len(blocks), BLOCKS_PER_MESSAGE)
    ]
    return [(_fallback(batch), batch) for batch in batches]


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _fallback(blocks: Sequence[Block]) -> str:
    """The notification text: the first section's start, else the first button's label."""
    for block in blocks:
        if block["type"] == "section":
            return _split(str(block["text"]["text"]), FALLBACK_CHARS)[0]
    for block in blocks:
        for element in block.get("elements", ()):
            return escape(str(element["text"]["text"]))
    return "…"


def _source_line(ref: SourceRef) -> str:
    title = escape(_clip(ref.title or ref.source, 300))
    raw_url = ref.url or (ref.source if ref.source.startswith(("http://", "https://")) else None)
    url = _link_target(raw_url) if raw_url else None
    parts = [f"[{ref.n}] <{url}|{title}>" if url else f"[{ref.n}] {title}"]
    if ref.record_id:
        parts.append(escape(ref.record_id))
    if ref.section:
        parts.append(escape(_clip(ref.section, 200)))
    if ref.deadlines:
        label = "deadline" if len(ref.deadlines) == 1 else "deadlines"
        parts.append(f"{label} {escape(', '.join(ref.deadlines))}")
    if ref.status_today:
        parts.append(escape(ref.status_today))
    if not url and ref.source and ref.source != ref.title:
        parts.append(escape(_clip(ref.source, 300)))
    return " · ".join(parts)


def _link_target(url: str) -> str | None:
    """A URL safe inside ``<url|title>``, or None for anything but plain http(s) links."""
    if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _action_blocks(buttons: Sequence[Button]) -> list[Block]:
    elements: list[Block] = []
    for i, button in enumerate(buttons):
        label = {"type": "plain_text", "text": _clip(button.label or button.action, LABEL_CHARS)}
        if button.url:
            if not button.url.startswith(("http://", "https://")):
                continue
            elements.append(
                {
                    "type": "button",
                    "text": label,
                    "url": button.url,
                    "action_id": f"{LINK_ACTION}:{i}",
                }
            )
            continue
        element: Block = {"type": "button", "text": label, "action_id": f"{button.action}:{i}"}
        if button.payload:
            element["value"] = button.payload
        elements.append(element)
    return [
        {
            "type": "actions",
            "block_id": f"actions:{n}",
            "elements": elements[i : i + BUTTONS_PER_BLOCK],
        }
        for n, i in enumerate(range(0, len(elements), BUTTONS_PER_BLOCK))
    ]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _split(text: str, limit: int) -> list[str]:
    """Escaped mrkdwn cut into pieces of at most ``limit`` characters.

    Cuts at a paragraph, line or word break when there is one in the second half of the
    window; a hard cut never splits an entity such as ``&amp;``.
    """
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = 0
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at > limit // 2:
                cut = at
                break
        if not cut:
            cut = limit
            amp = window.rfind("&", limit - 5)
            if amp > 0 and ";" not in window[amp:]:
                cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return [piece for piece in pieces if piece]


# --- Platform errors -> DeliveryError ------------------------------------------------------


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None


def _delivery_error(exc: Exception, what: str) -> DeliveryError:
    """Slack's answer (or silence) as a ``DeliveryError``; never carries a token.

    A token Slack no longer accepts (or one lacking the scope to post) is fatal and names
    ``CLUSTERBOT_SLACK_BOT_TOKEN``; a conversation that is gone makes the recipient
    unreachable; a message Slack refuses as malformed is permanent for that message only.
    """
    if isinstance(exc, SlackApiError):
        status = int(getattr(exc.response, "status_code", 0) or 0)
        data = getattr(exc.response, "data", None)
        error = str(data.get("error", "")) if isinstance(data, dict) else ""
        detail = error or f"HTTP {status}"
        if status == 429 or error == "ratelimited":
            wait = _retry_after(getattr(exc.response, "headers", None))
            return DeliveryError(f"Slack {what}: rate limited", retry_after=wait)
        if error in _BAD_TOKEN or error in _FATAL_SEND:
            return DeliveryError(
                f"Slack refused CLUSTERBOT_SLACK_BOT_TOKEN while sending ({error})",
                fatal=True,
                permanent=error in _PERMANENT,
            )
        if error in _PERMANENT or status in (403, 404):
            return DeliveryError(f"Slack {what}: {detail}", permanent=True)
        if error in _BAD_MESSAGE:
            return DeliveryError(f"Slack {what}: {detail}", permanent=True, unreachable=False)
        return DeliveryError(f"Slack {what}: {detail}")
    if isinstance(exc, TimeoutError):
        return DeliveryError(f"Slack {what}: timed out")
    return DeliveryError(f"Slack {what}: {type(exc).__name__}")


class _ShortRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 retry, once, and only when Slack asks for a short wait.

    A longer ``Retry-After`` goes back to the caller as ``DeliveryError.retry_after`` so the
    outbox reschedules instead of holding a worker.
    """

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after(response.headers)  # slack_sdk sleeps int(Retry-After) seconds
        return wait is not None and wait.is_integer() and wait <= MAX_RETRY_WAIT_S


# --- The channel ---------------------------------------------------------------------------


class SlackChannel:
    """Slack for clusterbot: receives through bolt, answers through the Web API.

    Also the Slack ``Sender`` the outbox uses for proactive messages.
    """

    channel = "slack"

    def __init__(self, *, settings: Settings, responder: Responder, timeout: float = 30.0) -> None:
        """Build the bolt app; nothing touches the network before ``start``.

        Args:
            settings: the ``slack_*`` settings are used.
            responder: the assistant that turns each message into a reply.
            timeout: seconds one Web API call may take.
        """
        self._settings = settings
        self._responder = responder
        self._timeout = timeout
        self._mode = settings.slack_mode
        token = _secret(settings.slack_bot_token)
        handlers: list[AsyncRetryHandler] = [*async_default_handlers(), _ShortRateLimitRetry()]
        self._client = AsyncWebClient(
            token=token or None,
            base_url=settings.slack_api_url,
            timeout=max(1, math.ceil(timeout)),
            retry_handlers=handlers,
        )
        self._session: aiohttp.ClientSession | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._inflight: set[asyncio.Task[Any]] = set()
        self._started = False
        self._team: str | None = None
        self._bot_user: str | None = None
        self._app: AsyncApp | None = None
        if token:
            self._app = self._build_app()

    def _build_app(self) -> AsyncApp:
        app = AsyncApp(
            name="clusterbot",
            client=self._client,
            signing_secret=_secret(self._settings.slack_signing_secret),
            process_before_response=False,
            request_verification_enabled=self._mode == "http",
        )
        app.event("message")(self._on_event)
        app.event("app_mention")(self._on_event)
        app.command(re.compile(r"^/"))(self._on_command)
        app.action(re.compile(r".*"))(self._on_action)
        app.event(re.compile(r".*"))(self._on_other_event)
        app.error(self._on_error)
        return app

    @property
    def client(self) -> AsyncWebClient:
        """The Web API client (for callers that need a method the adapter does not wrap)."""
        return self._client

    # lifecycle

    async def start(self, *, receive: bool = True) -> None:
        """Check the tokens with Slack and, in Socket Mode, open the connection.

        Args:
            receive: False to only send (the outbox worker of ``clusterbot deliver``): the
                bot token is checked, no Socket Mode connection is opened and neither the
                app token nor the signing secret is needed.

        Raises:
            ConfigurationError: a needed setting is missing, or Slack refused a token; the
                message names the setting, never its value.
            ConnectionError: Slack could not be reached.
        """
        if self._started:
            return
        if self._app is None:
            raise ConfigurationError("CLUSTERBOT_SLACK_BOT_TOKEN is not set")
        app_token = _secret(self._settings.slack_app_token)
        if receive and self._mode == "socket" and not app_token:
            raise ConfigurationError(
                "CLUSTERBOT_SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token "
                "(xapp-...); or set CLUSTERBOT_SLACK_MODE=http"
            )
        if receive and self._mode == "http" and not _secret(self._settings.slack_signing_secret):
            raise ConfigurationError(
                "CLUSTERBOT_SLACK_SIGNING_SECRET is not set: HTTP mode checks every request"
            )
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        self._client.session = self._session
        try:
            identity = await self._checked("auth.test", "CLUSTERBOT_SLACK_BOT_TOKEN", None)
            self._team = _str(identity.get("team"))
            self._bot_user = _str(identity.get("user_id"))
            if receive and self._mode == "socket":
                await self._connect(app_token)
        except BaseException:
            await self._close_session()
            raise
        self._started = True
        logger.info("Slack connected (%s mode, team %s)", self._mode, self._team)

    async def _checked(
        self, method: str, setting: str, app_token: str | None
    ) -> Mapping[str, Any]:
        try:
            if app_token is None:
                response = await self._client.auth_test()
            else:
                response = await self._client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            data = getattr(exc.response, "data", None)
            error = str(data.get("error", "")) if isinstance(data, dict) else ""
            if error in _BAD_TOKEN:
                raise ConfigurationError(f"{setting} was refused by Slack ({error})") from None
            raise ConnectionError(f"Slack {method} failed ({error or 'no answer'})") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ConnectionError(f"Slack {method} failed ({type(exc).__name__})") from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def _connect(self, app_token: str) -> None:
        assert self._app is not None
        opened = await self._checked(
            "apps.connections.open", "CLUSTERBOT_SLACK_APP_TOKEN", app_token
        )
        handler = AsyncSocketModeHandler(self._app, app_token=app_token, web_client=self._client)
        handler.client.wss_uri = _str(opened.get("url"))
        self._socket = handler
        try:
            await asyncio.wait_for(
                handler.connect_async(),  # type: ignore[no-untyped-call]
                timeout=self._timeout,
            )
        except TimeoutError:
            await self._close_socket()
            raise ConnectionError("Slack Socket Mode connection timed out") from None

    async def stop(self) -> None:
        """Close the Socket Mode connection, let answers in progress finish, release clients."""
        await self._close_socket()
        await self._drain()
        await self._close_session()
        self._started = False

    async def _close_socket(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            await socket.close_async()  # type: ignore[no-untyped-call]

    async def _drain(self) -> None:
        pending = {task for task in self._inflight if not task.done()}
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=DRAIN_S)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def _close_session(self) -> None:
        session, self._session = self._session, None
        self._client.session = None
        if session is not None:
            await session.close()

    # HTTP mode

    def routes(self) -> list[web.RouteDef]:
        """``POST /slack/events`` in HTTP mode (events, interactivity, commands); else none."""
        if self._mode != "http":
            return []
        return [web.post("/slack/events", self._http)]

    async def _http(self, request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.Response(status=413, text="request body too large")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="request body too large")
        if len(raw) > MAX_BODY_BYTES:
            return web.Response(status=413, text="request body too large")
        if self._app is None:
            return web.Response(status=503, text="Slack is not configured")
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, TypeError, AttributeError, KeyError):
            logger.info("malformed Slack request rejected")
            return web.Response(status=400, text="malformed request")
        body = bolt_request.body
        if not isinstance(body, dict) or not _well_formed(body):
            logger.info("malformed Slack request rejected")
            return web.Response(status=400, text="malformed request")
        return await to_aiohttp_response(await self._app.async_dispatch(bolt_request))

    async def health(self) -> dict[str, object]:
        """Whether Slack is usable: started and, in Socket Mode, connected."""
        ok = self._started
        if ok and self._socket is not None:
            ok = await self._socket.client.is_connected()
        return {"ok": ok, "mode": self._mode, "team": self._team, "bot_user": self._bot_user}

    # Sender

    async def send(self, chat_id: str, reply: Reply, *, thread: str | None = None) -> str:
        """Post a reply (several messages if it is long, then its files).

        Args:
            chat_id: a conversation id (C..., D..., G...) or a user id for their DM.
            reply: what to send.
            thread: the ``ts`` of the thread to answer in.

        Returns:
            The ``ts`` of the first message (the first file's id for a files-only reply).

        Raises:
            DeliveryError: ``permanent`` when the conversation is gone or closed to the bot;
                otherwise transient, with ``retry_after`` after a 429.
        """
        first = ""
        channel = chat_id
        for text, blocks in _messages(reply):
            try:
                posted = await self._client.chat_postMessage(
                    channel=chat_id,
                    text=text,
                    blocks=blocks,
                    thread_ts=thread,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except (SlackClientError, TimeoutError, aiohttp.ClientError) as exc:
                raise _delivery_error(exc, "chat.postMessage") from None
            first = first or str(posted.get("ts") or "")
            channel = str(posted.get("channel") or chat_id)
        file_id = await self._upload(channel, reply, thread)
        return first or file_id

    async def _upload(self, channel: str, reply: Reply, thread: str | None) -> str:
        first = ""
        for attachment in reply.attachments:
            try:
                uploaded = await self._client.files_upload_v2(
                    channel=channel,
                    content=attachment.content,
                    filename=attachment.filename,
                    title=attachment.filename,
                    thread_ts=thread,
                )
            except (SlackClientError, TimeoutError, aiohttp.ClientError) as exc:
                raise _delivery_error(exc, "files_upload_v2") from None
            file = uploaded.get("file")
            first = first or (str(file.get("id", "")) if isinstance(file, dict) else "")
        return first

    async def _respond(
        self, respond: AsyncRespond, channel: str, response_type: str, reply: Reply
    ) -> None:
        """Answer through a ``response_url`` (works where the bot is not a member)."""
        for text, blocks in _messages(reply):
            result = await respond(
                text=text, blocks=blocks, response_type=response_type, replace_original=False
            )
            if result.status_code != 200:
                raise DeliveryError(f"Slack response_url answered HTTP {result.status_code}")
        await self._upload(channel, reply, None)

    async def _post(self, channel: str, thread: str | None, reply: Reply) -> None:
        await self.send(channel, reply, thread=thread)

    # bolt listeners

    async def _on_event(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        """A direct message or a mention (bolt has already acknowledged it)."""
        bot_user = context.bot_user_id or self._bot_user
        msg = to_incoming(body, bot_user_id=bot_user, commands=self._responder.commands)
        if msg is not None:
            await self._handle(msg, functools.partial(self._post, msg.chat_id, reply_thread(body)))

    async def _on_command(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """A slash command: acknowledged at once, answered through its response_url."""
        await ack()
        msg = to_incoming(body, commands=self._responder.commands)
        if msg is not None:
            kind = "in_channel" if msg.chat_type == "private" else "ephemeral"
            await self._handle(msg, functools.partial(self._respond, respond, msg.chat_id, kind))

    async def _on_action(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """A button press: acknowledged, then answered where the button was."""
        await ack()
        msg = to_incoming(body, commands=self._responder.commands)
        if msg is None:
            return
        deliver: Deliver
        if _mapping(body.get("container")).get("is_ephemeral"):
            deliver = functools.partial(self._respond, respond, msg.chat_id, "ephemeral")
        else:
            deliver = functools.partial(self._post, msg.chat_id, reply_thread(body))
        await self._handle(msg, deliver)

    async def _on_other_event(self) -> None:
        """Events the bot does not use: acknowledged so Slack does not retry them."""

    async def _on_error(self, error: Exception) -> None:
        """Last resort for anything that escaped a listener."""
        ref = secrets.token_hex(4)
        logger.error("unhandled error in the Slack adapter (ref %s)", ref, exc_info=error)

    async def _handle(self, msg: Incoming, deliver: Deliver) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            try:
                reply = await self._responder.respond(msg)
                if reply is not None:
                    await deliver(reply)
            except Exception:
                ref = secrets.token_hex(4)
                logger.exception("could not answer a Slack message (ref %s)", ref)
                try:
                    await deliver(Reply(text=APOLOGY.format(ref=ref), reference=ref))
                except Exception:
                    logger.exception("could not send the apology either (ref %s)", ref)
        finally:
            if task is not None:
                self._inflight.discard(task)


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


__all__ = [
    "APOLOGY",
    "MAX_BODY_BYTES",
    "SlackChannel",
    "escape",
    "plain",
    "render",
    "reply_thread",
    "to_incoming",
]
