"""Seeded generators of malformed Telegram updates and Slack payloads.

Everything comes from one ``random.Random``, so a failing run is replayed from its seed. Each
generated item says whether it carries a *malformed command* that the bot must answer with
help (a usage line, an example or a pointer to a command), so the test can check the answer.
Three kinds of input are mixed: intact updates whose text is a command with junk arguments,
intact updates with junk content (text, button data, names), and updates whose structure is
damaged (wrong types, missing or extra fields, nested junk).
"""

from __future__ import annotations

import copy
import itertools
import random
import string
import time
from dataclasses import dataclass
from typing import Any

from bot.handlers import COMMANDS, TAPS

# Commands the bot knows and some it does not.
KNOWN = tuple(sorted(COMMANDS))
UNKNOWN = ("zzz", "brodcast", "answers", "HELP2", "x" * 40, "über", "a_b", "123", "🙂")

# Commands whose arguments are certainly wrong: each must be answered with help.
MALFORMED = (
    "/broadcast sector==",
    "/broadcast status",
    "/broadcast send x",
    "/broadcast cancel ²",
    "/broadcast approve #",
    "/broadcast |||",
    "/broadcast sector=diagnostics",
    "/broadcast nonsense=1 | hi",
    "/broadcast sector=diagnostics | ",
    "/broadcast at=yesterday | hello",
    "/answer x",
    "/answer",
    "/answer 12",
    "/answer ² text",
    "/answer #",
    "/answer ١٢",
    "/newevent |||",
    "/newevent x",
    "/newevent Title | someday | Place",
    "/newevent Title | 2026-13-45 14:00-16:00 | Place",
    "/newevent | 2026-12-10 14:00-16:00 | Place",
    "/newevent Title | 2026-12-10 25:00-26:00 | Place",
    "/requests zzz 1",
    "/requests show x",
    "/requests close ²",
    "/requests introduce",
    "/attendees zzz",
    "/attendees 0",
    "/attendees ²",
    "/attendees -1",
    "/alerts zzz",
    "/alerts on nothing",
    "/alerts off",
    "/start \x00",
    "/start NOPE-0000",
    "/scout |||",
    "/scout | |",
)
# Arguments that look like numbers to str.isdigit() or to a database but are not usable ids.
NUMBERS = ("0", "-1", "²", "١٢", "٣", "99999999999999999999999", "9" * 400, "1e3", "0x10", "12")
TRICKY = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202egnp.exe",
    "\u200b\u200b",
    "\ufeffhello",
    "👩\u200d🔬" * 30,
    "e\u0301" * 40,
    "\U0001f600" * 100,
    "\ud83d",
    "<b>bold</b> <a href='javascript:alert(1)'>x</a>",
    "<!channel> <!here> <@U0BOT>",
    "&amp; &lt; &gt; &#0; &",
    "%s %d %(name)s {0} {ref}",
    "'; DROP TABLE people;--",
    "\r\n\t\v\f",
    "|||",
    "=,=,=",
    "sector==",
    "null",
    "None",
    "NaN",
    "../../etc/passwd",
    "\\x00\\n",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "ﷺ" * 50,
    "\u0000\u0001\u0002\u001b[31m",
)


def huge(rng: random.Random) -> str:
    """A very long string: beyond Telegram's 4096 characters, sometimes far beyond."""
    unit = rng.choice(("x", "é", "R&D <lab> ", "word ", "👩\u200d🔬", "\n"))
    return unit * rng.choice((4097 // len(unit) + 1, 3000, 20000))


def junk_text(rng: random.Random) -> str:
    """A short or long piece of junk text."""
    roll = rng.random()
    if roll < 0.5:
        return rng.choice(TRICKY)
    if roll < 0.6:
        return huge(rng)
    if roll < 0.8:
        return rng.choice(NUMBERS)
    size = rng.randint(1, 30)
    return "".join(rng.choice(string.printable) for _ in range(size))


def junk_value(rng: random.Random, depth: int = 0) -> Any:
    """A value of a random JSON type (or nested junk), to put where something else belongs."""
    roll = rng.randrange(12)
    if roll == 0:
        return None
    if roll == 1:
        return rng.choice((True, False))
    if roll == 2:
        return rng.choice((0, -1, 2**31, 2**63, -(2**70), 7))
    if roll == 3:
        return rng.choice((0.5, -1e308, 1e308))
    if roll in (4, 5, 6):
        return junk_text(rng)
    if roll == 7 and depth < 3:
        return [junk_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if roll == 8 and depth < 3:
        return {junk_text(rng)[:20]: junk_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if roll == 9:
        return []
    if roll == 10:
        return {}
    return rng.choice(("", "private", "group", "supergroup", "channel", "message"))


def junk_args(rng: random.Random) -> str:
    """Arguments for a command: numbers that are not ids, separators, junk."""
    parts = [junk_text(rng) for _ in range(rng.randint(1, 3))]
    return " ".join(p for p in parts if p)


def command_text(rng: random.Random) -> tuple[str, bool]:
    """A command with junk arguments, and whether it is certainly malformed."""
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(MALFORMED), True
    if roll < 0.45:
        return "/" + rng.choice(UNKNOWN) + " " + junk_args(rng), True
    if roll < 0.5:
        return "/" + rng.choice(KNOWN) + " " + huge(rng), False
    return "/" + rng.choice(KNOWN) + " " + junk_args(rng), False


def mutate(rng: random.Random, data: Any, *, times: int = 1) -> Any:
    """A deep copy of ``data`` with ``times`` random changes somewhere in its tree."""
    out = copy.deepcopy(data)
    for _ in range(times):
        out = _mutate_once(rng, out, 0)
    return out


def _mutate_once(rng: random.Random, node: Any, depth: int) -> Any:
    if isinstance(node, dict) and node and (depth < 4 and rng.random() < 0.6):
        key = rng.choice(list(node))
        node[key] = _mutate_once(rng, node[key], depth + 1)
        return node
    if isinstance(node, list) and node and rng.random() < 0.6:
        i = rng.randrange(len(node))
        node[i] = _mutate_once(rng, node[i], depth + 1)
        return node
    if isinstance(node, dict):
        roll = rng.random()
        if roll < 0.4 and node:
            del node[rng.choice(list(node))]
        elif roll < 0.7:
            node[rng.choice(("extra", "text", "from", "chat", "data", "id"))] = junk_value(rng)
        else:
            return junk_value(rng)
        return node
    return junk_value(rng)


@dataclass(frozen=True)
class Fuzzed:
    """One generated input.

    Attributes:
        kind: ``update`` (Telegram), or the Slack delivery kind: ``events_api``,
            ``slash_commands``, ``interactive``, or ``raw`` (bytes posted as they are).
        payload: The update or payload (a dict), or the raw body for ``raw``.
        malformed_command: True when it carries a command with certainly wrong arguments
            from an intact update, which must be answered with help.
    """

    kind: str
    payload: Any
    malformed_command: bool = False


class TelegramFuzzer:
    """Telegram updates: commands with junk arguments, junk content, damaged structure.

    Args:
        rng: The seeded source of randomness.
        users: Telegram user ids to send as (the test makes some of them staff).
        bot_username: The bot's username, for mentions and ``/cmd@bot``.
    """

    def __init__(self, rng: random.Random, *, users: list[int], bot_username: str) -> None:
        self._rng = rng
        self._users = users
        self._bot = bot_username
        self._ids = itertools.count(1)

    def next(self) -> Fuzzed:
        """One update (without ``update_id``: the fake assigns it)."""
        rng = self._rng
        roll = rng.random()
        if roll < 0.08:
            text, malformed = command_text(rng)
            if rng.random() < 0.1:
                head, _, rest = text.partition(" ")
                text = f"{head}@{self._bot} {rest}".strip()
            group = rng.random() < 0.15
            return Fuzzed("update", self.message(text, group=group), malformed)
        if roll < 0.12:
            return Fuzzed("update", self.callback(self._callback_data()))
        if roll < 0.123:
            return Fuzzed("update", self.message(junk_text(rng) or "hello"))
        # Damaged updates carry commands: one that survives is cheap to answer, a question not.
        base = self.message(command_text(rng)[0]) if rng.random() < 0.5 else self.callback("x|1")
        if rng.random() < 0.08:
            return Fuzzed("update", junk_value(rng))
        return Fuzzed("update", mutate(rng, base, times=rng.randint(2, 4)))

    def message(
        self, text: str, *, group: bool = False, user: int | None = None
    ) -> dict[str, Any]:
        """A well-formed text message update."""
        uid = user if user is not None else self._rng.choice(self._users)
        sender = {"id": uid, "is_bot": False, "first_name": self._name(), "language_code": "en"}
        if group:
            chat = {"id": -100777, "type": "supergroup", "title": "Members"}
        else:
            chat = {"id": uid, "type": "private", "first_name": sender["first_name"]}
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            head = text.split(maxsplit=1)[0] if text.split() else text
            size = len(head.encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": size}]
        return {"message": message}

    def callback(self, data: str, *, user: int | None = None) -> dict[str, Any]:
        """A well-formed button press under a bot message."""
        uid = user if user is not None else self._rng.choice(self._users)
        sender = {"id": uid, "is_bot": False, "first_name": self._name()}
        bot_message = {
            "message_id": next(self._ids),
            "from": {"id": 123456789, "is_bot": True, "first_name": "Bot", "username": self._bot},
            "chat": {"id": uid, "type": "private", "first_name": "U"},
            "date": int(time.time()),
            "text": "earlier answer",
        }
        return {
            "callback_query": {
                "id": str(next(self._ids) * 7919),
                "from": sender,
                "chat_instance": "ci",
                "message": bot_message,
                "data": data,
            }
        }

    def _callback_data(self) -> str:
        rng = self._rng
        action = rng.choice((*ACTIONS, "nope", "", "|", "x" * 30))
        payload = rng.choice((junk_text(rng)[:50], rng.choice(NUMBERS), "yes", "ask:x", ":"))
        return f"{action}|{payload}"[:64] if rng.random() < 0.9 else junk_text(rng)[:64]

    def _name(self) -> str:
        rng = self._rng
        return rng.choice(("Ada", "", " ", "\u202eevil", "👩\u200d🔬" * 20, "a" * 300, "\x00"))


# Button actions the bot wires, to press with junk payloads.
ACTIONS = tuple(sorted(TAPS))


class SlackFuzzer:
    """Slack payloads: slash commands with junk, junk messages and buttons, damaged bodies.

    Args:
        rng: The seeded source of randomness.
        users: Slack user ids to send as.
        team_id: The workspace id the fake uses.
        response_url: Makes the ``response_url`` of a conversation.
    """

    def __init__(
        self, rng: random.Random, *, users: list[str], team_id: str, response_url: Any
    ) -> None:
        self._rng = rng
        self._users = users
        self._team = team_id
        self._response_url = response_url
        self._ids = itertools.count(1)

    def next(self) -> Fuzzed:
        """One payload (or raw body)."""
        rng = self._rng
        roll = rng.random()
        if roll < 0.06:
            text, malformed = command_text(rng)
            if rng.random() < 0.5 and text.startswith("/"):
                text = text[1:]  # "/cluster broadcast sector==" form
            user = rng.choice(self._users)
            channel = f"D{user}" if rng.random() < 0.85 else "C0MEMBERS"
            return Fuzzed("slash_commands", self.slash(text, user, channel), malformed)
        if roll < 0.08:
            text, malformed = command_text(rng)
            user = rng.choice(self._users)
            return Fuzzed("events_api", self.event(text, user), malformed)
        if roll < 0.11:
            return Fuzzed("interactive", self.action(self._action_id(), self._value()))
        if roll < 0.112:
            return Fuzzed(
                "events_api", self.event(junk_text(rng) or "hi", rng.choice(self._users))
            )
        if roll < 0.45:
            return Fuzzed("raw", self._raw())
        kind = rng.choice(("events_api", "slash_commands", "interactive"))
        user = rng.choice(self._users)
        base: dict[str, Any]
        if kind == "events_api":
            base = self.event(command_text(rng)[0], user)
        elif kind == "slash_commands":
            base = self.slash("/" + rng.choice(KNOWN), user, f"D{user}")
        else:
            base = self.action("fb:0", "up")
        if kind == "slash_commands":  # form fields are strings: junk them as strings
            key = rng.choice(list(base))
            base[key] = junk_text(rng)
            if rng.random() < 0.3:
                del base[rng.choice(list(base))]
            return Fuzzed(kind, base)
        return Fuzzed(kind, mutate(rng, base, times=rng.randint(2, 4)))

    def slash(self, text: str, user: str, channel: str) -> dict[str, str]:
        """A slash command ``/cluster text`` as form fields."""
        return {
            "token": "legacy",
            "team_id": self._team,
            "team_domain": "cluster",
            "channel_id": channel,
            "channel_name": "directmessage",
            "user_id": user,
            "user_name": self._rng.choice(("ada", "", "\u202e", "x" * 200)),
            "command": "/cluster",
            "text": text,
            "api_app_id": "A0CLUSTER",
            "response_url": self._response_url(channel),
            "trigger_id": f"{next(self._ids)}.fuzz",
        }

    def event(self, text: str, user: str) -> dict[str, Any]:
        """A direct message event."""
        n = next(self._ids)
        ts = f"{1700000000 + n}.000100"
        event = {
            "type": "message",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel": f"D{user}",
            "team": self._team,
        }
        return {
            "token": "legacy",
            "team_id": self._team,
            "api_app_id": "A0CLUSTER",
            "event": event,
            "type": "event_callback",
            "event_id": f"EvFuzz{n:08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self._team, "user_id": "U0BOT", "is_bot": True}],
        }

    def action(self, action_id: str, value: str) -> dict[str, Any]:
        """A ``block_actions`` payload: a button pressed in a DM."""
        user = self._rng.choice(self._users)
        channel = f"D{user}"
        return {
            "type": "block_actions",
            "user": {"id": user, "username": "ada", "name": "ada", "team_id": self._team},
            "api_app_id": "A0CLUSTER",
            "token": "legacy",
            "container": {"type": "message", "message_ts": "1.2", "channel_id": channel},
            "trigger_id": f"{next(self._ids)}.fuzz",
            "team": {"id": self._team, "domain": "cluster"},
            "channel": {"id": channel, "name": "directmessage"},
            "response_url": self._response_url(channel),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "actions:0",
                    "text": {"type": "plain_text", "text": "x"},
                    "value": value,
                    "action_ts": "1.3",
                }
            ],
        }

    def _action_id(self) -> str:
        rng = self._rng
        name = rng.choice((*ACTIONS, "nope", "_link", ""))
        return f"{name}:{rng.randint(0, 3)}" if rng.random() < 0.9 else junk_text(rng)[:60]

    def _value(self) -> str:
        rng = self._rng
        return rng.choice((junk_text(rng)[:60], rng.choice(NUMBERS), "yes", "ask:x", ":"))

    def _raw(self) -> bytes:
        rng = self._rng
        return rng.choice(
            (
                b"",
                b"{",
                b"[]",
                b"null",
                b'{"type": "url_verification"}',
                b'{"type": "event_callback", "event": []}',
                b'{"type": "event_callback", "event": "x"}',
                b"payload=%7B",
                b"payload=%5B%5D",
                b"payload=null",
                b"command=&text=",
                b"\xff\xfe\x00",
                b"a=1&a=2&a=3",
                junk_text(rng).encode("utf-8", "surrogatepass"),
            )
        )


__all__ = [
    "ACTIONS",
    "KNOWN",
    "MALFORMED",
    "Fuzzed",
    "SlackFuzzer",
    "TelegramFuzzer",
    "command_text",
    "huge",
    "junk_text",
    "junk_value",
    "mutate",
]
