"""The Telegram adapter: updates in, replies out, on python-telegram-bot with a manual lifecycle.

It converts only. ``to_incoming`` turns an update into an ``Incoming`` (or ``None`` for anything
the bot should ignore), the responder decides, ``render`` turns the ``Reply`` into HTML messages
of at most 4096 characters, and ``TelegramChannel.send`` puts them into the chat, translating
Telegram's failures into ``DeliveryError`` at the edge. The application is initialised, started
and stopped by hand (never ``run_polling``) because Slack and the HTTP server share the loop;
in webhook mode updates arrive through ``routes()`` on that HTTP server.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import hmac
import html
import json
import logging
import re
import secrets
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.config import Settings
from bot.errors import ConfigurationError, DeliveryError
from bot.messages import Attachment, Button, ChatType, Incoming, Reply, Responder, SourceRef
from bot.redact import redact

logger = logging.getLogger(__name__)

MAX_TEXT = 4096  # characters in one Telegram message
MAX_CALLBACK_DATA = 64  # bytes of callback data Telegram keeps for a button
MAX_WEBHOOK_BODY = 1024 * 1024  # bytes; a real update is a few kilobytes
MAX_TITLE = 300  # characters of a source title shown (keeps every source line atomic)
STOP_GRACE_S = 30.0  # seconds stop() waits for updates in progress
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY)
APOLOGY = "Sorry, something went wrong on my side. Reference: {ref}."
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TAG = re.compile(r"<(/?)([a-zA-Z]+)[^>]*>")
# Bad requests that mean the chat cannot be reached, rather than that this message was wrong.
_RECIPIENT_GONE = re.compile(
    r"chat not found|user not found|peer_id_invalid|chat_id is empty|kicked|deactivated"
    r"|not enough rights|have no rights|need administrator rights|chat_write_forbidden",
    re.IGNORECASE,
)


# -- updates in ---------------------------------------------------------------------------------


def to_incoming(update: Update, *, bot_username: str) -> Incoming | None:
    """The ``Incoming`` for a text message or a button tap; ``None`` for anything else.

    In groups the bot answers only when it is @mentioned (the mention is removed from the
    text), given a command (not addressed to another bot) or replied to. Edited messages,
    channel posts, stickers, messages from bots and anything unreadable give ``None``.

    Args:
        update: The update as python-telegram-bot parsed it.
        bot_username: The bot's own username (without ``@``), to recognise mentions.

    Returns:
        The neutral message, or ``None`` when the bot should stay silent.
    """
    try:
        if update.callback_query is not None:
            return _from_callback(update)
        return _from_message(update, bot_username)
    except Exception:  # an odd update must never stop the bot
        logger.warning("ignored an unreadable telegram update %s", update.update_id, exc_info=True)
        return None


def _clean(text: str) -> str:
    """Text the database can hold: lone surrogates (from JSON escapes) become "?", NULs go."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _well_typed(update: Update) -> bool:
    """Whether the ids and texts the bot reads have the types the Bot API promises.

    python-telegram-bot does not check types, and an id that is not a number breaks the
    library itself after the handlers ran; Telegram's ids have at most 52 significant bits.
    """
    try:
        ids = [update.update_id]
        ids += [o.id for o in (update.effective_user, update.effective_chat) if o is not None]
        texts = [
            update.message.text if update.message is not None else None,
            update.callback_query.data if update.callback_query is not None else None,
        ]
    except Exception:  # a damaged structure the properties cannot walk
        return False
    return all(type(i) is int and abs(i) < 2**52 for i in ids) and all(
        t is None or isinstance(t, str) for t in texts
    )


def _chat_type(kind: str) -> ChatType | None:
    if kind == "private":
        return "private"
    if kind in ("group", "supergroup"):
        return "group"
    return None


def _from_message(update: Update, bot_username: str) -> Incoming | None:
    message = update.message
    if message is None or message.text is None:
        return None
    user = message.from_user
    if user is None or user.is_bot:
        return None
    chat_type = _chat_type(message.chat.type)
    if chat_type is None:
        return None
    text = _clean(message.text)
    me = bot_username.lower()
    mentioned = False
    if me:
        mention = re.compile(rf"(?<![\w@])@{re.escape(bot_username)}\b[,:]?\s*", re.IGNORECASE)
        text, count = mention.subn("", text)
        mentioned = count > 0
    text = text.strip()
    command_target = ""
    if text.startswith("/"):
        head = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
        command_target = head.partition("@")[2].lower()
        if command_target and command_target != me:
            return None  # "/help@otherbot": meant for another bot
    if chat_type == "group":
        replied = message.reply_to_message
        to_me = (
            replied is not None
            and replied.from_user is not None
            and bool(me)
            and (replied.from_user.username or "").lower() == me
        )
        is_command = text.startswith("/") and len(text) > 1
        if not (mentioned or is_command or to_me):
            return None
    return Incoming.parse(
        channel="telegram",
        user_id=str(user.id),
        chat_id=str(message.chat.id),
        text=text,
        chat_type=chat_type,
        event_id=str(update.update_id),
        display_name=_clean(user.full_name or "") or None,
    )


def _from_callback(update: Update) -> Incoming | None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return None  # inline-mode or game buttons: not ours
    chat_type = _chat_type(query.message.chat.type)
    if chat_type is None:
        return None
    action, _, payload = _clean(query.data).partition("|")
    if not action:
        return None
    return Incoming.pressed(
        channel="telegram",
        user_id=str(query.from_user.id),
        chat_id=str(query.message.chat.id),
        action=action,
        payload=payload,
        chat_type=chat_type,
        event_id=str(update.update_id),
        display_name=_clean(query.from_user.full_name or "") or None,
    )


class _UpdatesRequest(HTTPXRequest):
    """``getUpdates`` that never hands python-telegram-bot an update it cannot parse.

    The library parses a polled batch at once: one unreadable update fails the whole batch,
    the offset never moves, and polling fetches (and logs, text and all) the same batch
    forever. Such an update becomes a bare ``{"update_id": n}``: ignored, and confirmed by
    the next poll like any other.
    """

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """The decoded answer, with each unreadable update of a batch replaced."""
        data = HTTPXRequest.parse_json_payload(payload)
        if isinstance(data.get("result"), list):
            data["result"] = [k for item in data["result"] if (k := _readable(item)) is not None]
        return data


def _readable(item: object) -> dict[str, Any] | None:
    try:
        update = Update.de_json(item, None)  # type: ignore[arg-type]
        if update is not None and _well_typed(update):
            return item  # type: ignore[return-value]
    except Exception:  # whatever the library chokes on
        pass
    update_id = item.get("update_id") if isinstance(item, dict) else None
    logger.warning("ignored an unreadable telegram update %s", update_id)
    if isinstance(update_id, int) and not isinstance(update_id, bool):
        return {"update_id": update_id}
    return None


# -- replies out --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedMessage:
    """One Telegram message of a rendered reply.

    Either HTML ``text`` (parse mode HTML) or a ``document`` to upload; the inline keyboard
    rides on the last message of the reply.
    """

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    document: Attachment | None = None


def render(reply: Reply) -> list[RenderedMessage]:
    """Render a reply as Telegram messages: HTML text, split to fit, then documents.

    Text and titles are escaped; sources become a numbered list under the text; the text is
    split at paragraph, line or word boundaries into messages of at most 4096 characters
    (never inside an HTML entity or tag); buttons go on the last text message; attachments
    follow as documents.

    Args:
        reply: What the responder answered.

    Returns:
        The messages to send, in order (empty for an empty reply).
    """
    html_text = html.escape(reply.text.strip(), quote=False)
    if reply.sources:
        listing = "\n".join(_source_line(s) for s in reply.sources)
        html_text = f"{html_text}\n\n<b>Sources</b>\n{listing}".strip()
    chunks = _split_html(html_text, MAX_TEXT)
    keyboard = _keyboard(reply.buttons)
    out = [RenderedMessage(text=c) for c in chunks]
    out.extend(RenderedMessage(text="", document=a) for a in reply.attachments)
    if keyboard is not None and out:
        last = next((i for i in range(len(out) - 1, -1, -1) if out[i].document is None), None)
        index = len(out) - 1 if last is None else last
        old = out[index]
        out[index] = RenderedMessage(text=old.text, keyboard=keyboard, document=old.document)
    return out


def _source_line(ref: SourceRef) -> str:
    title = ref.title.strip() or ref.source
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1].rstrip() + "…"
    shown = html.escape(title, quote=False)
    if ref.url and ref.url.startswith(("https://", "http://")):
        shown = f'<a href="{html.escape(ref.url, quote=True)}">{shown}</a>'
    details = [d for d in (ref.section, ref.record_id) if d]
    if ref.deadlines:
        label = "deadline" if len(ref.deadlines) == 1 else "deadlines"
        details.append(f"{label} {', '.join(ref.deadlines)}")
    if ref.status_today:
        details.append(ref.status_today)
    tail = "".join(f" · {html.escape(d[:MAX_TITLE], quote=False)}" for d in details)
    return f"{ref.n}. {shown}{tail}"


def _split_html(text: str, limit: int) -> list[str]:
    """Split HTML into pieces of at most ``limit`` characters at the gentlest boundary."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip()
    if rest.strip():
        pieces.append(rest)
    return pieces


def _cut_point(text: str, limit: int) -> int:
    cut = -1
    for sep in ("\n\n", "\n", " "):
        cut = text.rfind(sep, 0, limit + 1)
        if cut > 0:
            break
    if cut <= 0:
        cut = limit
    amp = text.rfind("&", 0, cut)  # inside an entity such as &amp;?
    if amp > 0 and text.find(";", amp, cut) == -1:
        cut = amp
    lt = text.rfind("<", 0, cut)  # inside a tag?
    if lt > 0 and text.find(">", lt, cut) == -1:
        cut = lt
    stack: list[tuple[str, int]] = []  # inside an element such as <a href>...</a>?
    for match in _TAG.finditer(text, 0, cut):
        if match.group(1):
            if stack and stack[-1][0] == match.group(2).lower():
                stack.pop()
        else:
            stack.append((match.group(2).lower(), match.start()))
    if stack and stack[0][1] > 0:
        cut = stack[0][1]
    return max(cut, 1)


def _callback_data(button: Button) -> str:
    data = f"{button.action}|{button.payload}" if button.payload else button.action
    raw = data.encode()
    if len(raw) <= MAX_CALLBACK_DATA:
        return data
    logger.warning("callback data of button %r is too long; truncated", button.action)
    return raw[:MAX_CALLBACK_DATA].decode(errors="ignore")


def _keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    width = 0
    for button in buttons:
        if button.url:
            key = InlineKeyboardButton(button.label, url=button.url)
        else:
            key = InlineKeyboardButton(button.label, callback_data=_callback_data(button))
        size = len(button.label)
        if rows and len(rows[-1]) < 3 and width + size <= 30 and size <= 14:
            rows[-1].append(key)
            width += size
        else:
            rows.append([key])
            width = size if size <= 14 else 99
    return InlineKeyboardMarkup(rows)


def delivery_error(exc: TelegramError, *, hide: tuple[str, ...] = ()) -> DeliveryError:
    """Translate a python-telegram-bot error into a ``DeliveryError``.

    A blocked bot, a missing chat or a migrated group is permanent and the recipient
    unreachable; any other bad request (markup, length) is permanent for this message only;
    a flood limit is transient with Telegram's ``retry_after``; timeouts, 5xx answers and
    network failures are transient; a rejected token (401, or 404 for a malformed one) is
    fatal and names ``CLUSTERBOT_TELEGRAM_TOKEN``.

    Args:
        exc: What python-telegram-bot raised.
        hide: Secret values to mask in the message (the token).

    Returns:
        The error to raise in its place.
    """
    message = redact(f"telegram: {type(exc).__name__}: {exc.message}", hide)
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():  # the int-or-timedelta transition warns on access
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, dtm.timedelta) else float(wait)
        return DeliveryError(message, retry_after=seconds)
    if isinstance(exc, InvalidToken):
        return DeliveryError(
            "Telegram rejected the bot token while sending: check CLUSTERBOT_TELEGRAM_TOKEN "
            "(and CLUSTERBOT_TELEGRAM_API_URL)",
            fatal=True,
        )
    if isinstance(exc, Forbidden | ChatMigrated):
        return DeliveryError(message, permanent=True)
    if isinstance(exc, BadRequest):
        gone = _RECIPIENT_GONE.search(exc.message) is not None
        return DeliveryError(message, permanent=True, unreachable=gone)
    return DeliveryError(message)  # TimedOut, NetworkError (5xx), Conflict


# -- the channel --------------------------------------------------------------------------------


def _api_urls(api_url: str) -> tuple[str, str]:
    base = api_url.rstrip("/")
    if "{token}" in base:
        return base, base.replace("/bot", "/file/bot", 1)
    if not base.endswith("/bot"):
        raise ConfigurationError(
            "CLUSTERBOT_TELEGRAM_API_URL must end in /bot (the token is appended), "
            f"e.g. https://api.telegram.org/bot; got {base!r}"
        )
    return base, base[: -len("/bot")] + "/file/bot"


class TelegramChannel:
    """Telegram as a channel: receives updates (polling or webhook) and sends replies.

    It is also the Telegram ``Sender`` the outbox worker uses for proactive messages.

    Args:
        settings: The bot's settings (``telegram_*`` fields).
        responder: Turns each ``Incoming`` into a ``Reply``.
        request_timeout: Seconds to wait for Telegram on each call (sending, not long polls).
    """

    channel = "telegram"

    def __init__(
        self, *, settings: Settings, responder: Responder, request_timeout: float = 10.0
    ) -> None:
        self._settings = settings
        self._responder = responder
        self._timeout = request_timeout
        self._mode: Literal["polling", "webhook"] = settings.telegram_mode
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._username = ""
        self._secrets = tuple(settings.secrets())

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, *, receive: bool = True) -> None:
        """Check the token with ``getMe``, then start polling or register the webhook.

        Args:
            receive: False to only send (the outbox worker of ``clusterbot deliver``): no
                polling and no webhook, so a ``serve`` process keeps receiving the updates.

        Raises:
            ConfigurationError: The token is missing or rejected, the API URL is wrong or
                unreachable, or webhook mode lacks its URL or secret.
        """
        if self._app is not None:
            return
        app = self._build(receive=receive)
        try:
            await app.initialize()
        except InvalidToken:
            await app.bot.shutdown()
            raise ConfigurationError(
                "Telegram rejected the bot token: check CLUSTERBOT_TELEGRAM_TOKEN"
            ) from None
        except TelegramError as exc:
            await app.bot.shutdown()
            raise ConfigurationError(
                "could not reach the Telegram Bot API (CLUSTERBOT_TELEGRAM_API_URL): "
                f"{type(exc).__name__}"
            ) from None
        self._username = app.bot.username
        if not receive:
            self._app = app
            logger.info("telegram ready to send as @%s", self._username)
            return
        try:
            await app.start()
            if self._mode == "polling":
                assert app.updater is not None
                await app.updater.start_polling(
                    allowed_updates=list(ALLOWED_UPDATES),
                    drop_pending_updates=False,
                    error_callback=self._on_polling_error,
                )
            else:
                await self._set_webhook(app.bot)
        except BaseException:
            await self._close(app)
            raise
        self._app = app
        logger.info("telegram started (%s) as @%s", self._mode, self._username)

    def _build(self, *, receive: bool = True) -> Application[Any, Any, Any, Any, Any, Any]:
        settings = self._settings
        token = settings.telegram_token
        if token is None or not token.get_secret_value().strip():
            raise ConfigurationError("CLUSTERBOT_TELEGRAM_TOKEN is not set")
        if receive and self._mode == "webhook":
            if not settings.telegram_webhook_url:
                raise ConfigurationError("webhook mode needs CLUSTERBOT_TELEGRAM_WEBHOOK_URL")
            secret = settings.telegram_webhook_secret
            if secret is None or not _SECRET_TOKEN.fullmatch(secret.get_secret_value()):
                raise ConfigurationError(
                    "webhook mode needs CLUSTERBOT_TELEGRAM_WEBHOOK_SECRET "
                    "(1-256 characters: letters, digits, _ and -)"
                )
        base_url, file_url = _api_urls(settings.telegram_api_url)
        builder = (
            ApplicationBuilder()
            .token(token.get_secret_value().strip())
            .base_url(base_url)
            .base_file_url(file_url)
            .concurrent_updates(settings.telegram_concurrent_updates)
            .job_queue(None)
            .connect_timeout(self._timeout)
            .read_timeout(self._timeout)
            .write_timeout(self._timeout)
            .pool_timeout(self._timeout)
        )
        if self._mode == "webhook" or not receive:
            builder = builder.updater(None)
        else:
            builder = builder.get_updates_request(_UpdatesRequest(connection_pool_size=1))
        try:
            app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        except InvalidToken:
            raise ConfigurationError("CLUSTERBOT_TELEGRAM_TOKEN is not a valid token") from None
        app.add_handler(TypeHandler(Update, self._on_update))
        app.add_error_handler(self._on_error)
        return app

    async def _set_webhook(self, bot: Bot) -> None:
        url = self._settings.telegram_webhook_url
        secret = self._settings.telegram_webhook_secret
        assert url is not None
        assert secret is not None
        try:
            await bot.set_webhook(
                url=url,
                secret_token=secret.get_secret_value(),
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
            )
        except TelegramError as exc:
            raise ConfigurationError(
                "Telegram refused CLUSTERBOT_TELEGRAM_WEBHOOK_URL: "
                + redact(exc.message, self._secrets)
            ) from None

    async def stop(self) -> None:
        """Stop polling and the application; safe to call twice or before ``start``."""
        app, self._app = self._app, None
        if app is not None:
            await self._close(app)
            logger.info("telegram stopped")

    @staticmethod
    async def _close(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                try:  # lets updates in progress finish, but not forever
                    await asyncio.wait_for(app.stop(), STOP_GRACE_S)
                except TimeoutError:
                    logger.warning("telegram updates still running after %ss", STOP_GRACE_S)
        finally:
            await app.shutdown()
            await app.bot.shutdown()

    async def health(self) -> dict[str, object]:
        """Whether the channel is receiving updates, in which mode, as which bot."""
        app = self._app
        ok = app is not None and app.running
        if ok and self._mode == "polling":
            ok = app is not None and app.updater is not None and app.updater.running
        return {"ok": ok, "mode": self._mode, "username": self._username or None}

    # -- sending --------------------------------------------------------------------------------

    async def send(self, chat_id: str, reply: Reply) -> str:
        """Send a rendered reply; returns the id of the first message sent.

        Raises:
            DeliveryError: Telegram refused or failed (``permanent`` / ``retry_after`` set).
            RuntimeError: The channel was not started.
        """
        first = ""
        for part in render(reply):
            sent = await self._send_part(chat_id, part)
            first = first or str(sent.message_id)
        if not first:
            logger.warning("an empty reply was not sent to telegram")
        return first

    async def _send_part(self, chat_id: str, part: RenderedMessage) -> Message:
        bot = self._bot()
        try:
            if part.document is not None:
                return await bot.send_document(
                    chat_id=chat_id,
                    document=InputFile(part.document.content, filename=part.document.filename),
                    caption=part.text or None,
                    parse_mode=ParseMode.HTML,
                    reply_markup=part.keyboard,
                )
            return await bot.send_message(
                chat_id=chat_id,
                text=part.text,
                parse_mode=ParseMode.HTML,
                reply_markup=part.keyboard,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except TelegramError as exc:
            raise delivery_error(exc, hide=self._secrets) from exc

    def _bot(self) -> Bot:
        if self._app is None:
            raise RuntimeError("the telegram channel is not started")
        bot: Bot = self._app.bot
        return bot

    async def _apologise(self, chat_id: str, ref: str) -> None:
        try:
            await self._bot().send_message(chat_id=chat_id, text=APOLOGY.format(ref=ref))
        except (TelegramError, RuntimeError) as exc:
            logger.warning("could not send the apology (ref %s): %s", ref, type(exc).__name__)

    # -- handling updates -----------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is not None:
            try:
                await query.answer()
            except TelegramError as exc:
                logger.warning(
                    "could not answer callback query of update %s: %s",
                    update.update_id,
                    type(exc).__name__,
                )
        msg = to_incoming(update, bot_username=self._username)
        if msg is None:
            return
        try:
            reply = await self._responder.respond(msg)
        except Exception:
            ref = secrets.token_hex(4)
            logger.exception("telegram update %s failed (ref %s)", update.update_id, ref)
            await self._apologise(msg.chat_id, ref)
            return
        if reply is not None:
            await self.send(msg.chat_id, reply)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        ref = secrets.token_hex(4)
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        logger.error("telegram update %s failed (ref %s)", update_id, ref, exc_info=error)
        if isinstance(error, DeliveryError) and error.permanent:
            return  # the chat cannot take messages; an apology would fail the same way
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None:
            await self._apologise(str(chat.id), ref)

    def _on_polling_error(self, exc: TelegramError) -> None:
        logger.warning(
            "telegram polling failed, retrying: %s",
            redact(f"{type(exc).__name__}: {exc.message}", self._secrets),
        )

    # -- webhook --------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The HTTP routes this channel serves: the webhook in webhook mode, else none."""
        if self._mode != "webhook":
            return []
        return [web.post(WEBHOOK_PATH, self._webhook)]

    async def _webhook(self, request: web.Request) -> web.Response:
        secret = self._settings.telegram_webhook_secret
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "backslashreplace")
        if secret is None or not hmac.compare_digest(given, secret.get_secret_value().encode()):
            return web.json_response({"ok": False, "error": "forbidden"}, status=403)
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BODY:
            return web.json_response({"ok": False, "error": "too large"}, status=413)
        body = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            body.extend(chunk)
            if len(body) > MAX_WEBHOOK_BODY:
                return web.json_response({"ok": False, "error": "too large"}, status=413)
        try:
            data = json.loads(body)
        except ValueError:
            return web.json_response({"ok": False, "error": "not json"}, status=400)
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        app = self._app
        if app is None or not app.running:
            return web.json_response({"ok": False, "error": "starting"}, status=503)
        try:
            update = Update.de_json(data, app.bot)
        except Exception:
            logger.warning("webhook update %s could not be parsed", update_id, exc_info=True)
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        if not _well_typed(update):
            logger.warning("webhook update %s has fields of the wrong type", update_id)
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        await app.update_queue.put(update)
        return web.json_response({"ok": True})


__all__ = [
    "ALLOWED_UPDATES",
    "WEBHOOK_PATH",
    "RenderedMessage",
    "TelegramChannel",
    "delivery_error",
    "render",
    "to_incoming",
]
