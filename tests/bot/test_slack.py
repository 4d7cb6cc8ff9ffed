"""The Slack adapter against the fake Slack: real slack-bolt / slack-sdk, HTTP and Socket Mode."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.config import Settings
from bot.errors import ConfigurationError, DeliveryError
from bot.messages import Attachment, Button, Incoming, Reply, SourceRef
from bot.slack import (
    MAX_BODY_BYTES,
    SlackChannel,
    escape,
    plain,
    render,
    reply_thread,
    to_incoming,
)
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    GROUP_CHANNEL,
    SIGNING_SECRET,
    FakeSlack,
    Sent,
    running_slack,
    sign,
)

SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET)
APOLOGY = re.compile(r"Sorry, something went wrong on my side\. Reference: ([0-9a-f]{8})\.")


class EchoResponder:
    """A small real responder: echoes, one citation, buttons; remembers event ids."""

    def __init__(self) -> None:
        self.commands = frozenset({"help", "calls", "events", "start", "stop"})
        self.received: list[Incoming] = []
        self.seen: set[str] = set()
        self.fail = False
        self.replies: dict[str, Reply] = {}
        self.gate: asyncio.Event | None = None

    async def respond(self, msg: Incoming) -> Reply | None:
        self.received.append(msg)
        if msg.event_id is not None:
            if msg.event_id in self.seen:
                return None
            self.seen.add(msg.event_id)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("the knowledge base is on fire")
        if msg.tap is not None:
            return Reply(text=f"tapped {msg.tap.action} {msg.tap.payload}".strip())
        if msg.command is not None:
            return Reply(text=f"command {msg.command} args={msg.args!r}")
        if msg.text in self.replies:
            return self.replies[msg.text]
        return Reply(
            text=f"echo: {msg.text}",
            sources=(
                SourceRef(
                    n=1,
                    title="Funding <guide> & more",
                    source="guide.md",
                    url="https://example.org/guide?a=1&b=2",
                    record_id="HORIZON-HLTH-2026-01",
                    deadlines=("2026-09-01",),
                    status_today="open",
                ),
            ),
            buttons=(
                Button("More", "more", "p1"),
                Button("Stop alerts", "stop"),
                Button("Website", "site", url="https://example.org"),
            ),
        )


@pytest.fixture
def responder() -> EchoResponder:
    return EchoResponder()


def _all_text(sent: list[Sent]) -> str:
    return "\n".join(s.text for s in sent)


# --- direct messages, mentions, channel messages ---------------------------------------------


async def test_direct_message_is_answered(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        sent = await slack.say("U0ANNA", "hello there")
        fake = slack.fake
    assert len(sent) == 1
    reply = sent[0]
    assert reply.chat_id == "DU0ANNA"
    assert reply.thread is None
    assert "echo: hello there" in reply.text
    assert "HORIZON-HLTH-2026-01" in reply.text
    assert "deadline 2026-09-01" in reply.text
    assert [label for label, _ in reply.buttons] == ["More", "Stop alerts", "Website"]
    msg = responder.received[0]
    assert (msg.channel, msg.user_id, msg.chat_id, msg.chat_type) == (
        "slack",
        "U0ANNA",
        "DU0ANNA",
        "private",
    )
    assert msg.event_id is not None
    assert msg.event_id.startswith("Ev")
    # auth.test at start (and once by bolt on the first request), then the post
    assert fake.calls("auth.test")[0].token == BOT_TOKEN
    assert len(fake.calls("chat.postMessage")) == 1


async def test_threaded_direct_message_is_answered_in_its_thread(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        sent = await slack.say("U0ANNA", "in a thread", thread="1700000000.000100")
    assert sent[0].thread == "1700000000.000100"


async def test_mention_is_answered_in_the_thread_once(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        sent = await slack.say("U0BEN", "which calls are open?", group=True)
        mention = slack.last
    assert mention is not None
    assert len(sent) == 1  # Slack sends `message` and `app_mention`; only the mention answers
    assert sent[0].chat_id == GROUP_CHANNEL
    assert sent[0].thread == mention.payload["event"]["ts"]
    assert [m.text for m in responder.received] == ["which calls are open?"]
    assert responder.received[0].chat_type == "group"


async def test_mention_inside_a_thread_stays_in_that_thread(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        sent = await slack.say("U0BEN", "and this?", group=True, thread="1700000000.000200")
    assert sent[0].thread == "1700000000.000200"


async def test_plain_channel_message_is_ignored(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        sent = await slack.say("U0BEN", "just chatting", group=True, mention=False, expect=0)
    assert sent == []
    assert responder.received == []


async def test_own_and_bot_messages_are_ignored(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        ts = slack.fake.next_ts()
        own = {
            "type": "message",
            "channel": "DU0X",
            "channel_type": "im",
            "user": BOT_USER_ID,
            "text": "echo: hi",
            "ts": ts,
        }
        bot = {
            "type": "message",
            "channel": "DU0X",
            "channel_type": "im",
            "bot_id": "B0OTHER",
            "subtype": "bot_message",
            "text": "hi",
            "ts": ts,
        }
        edit = {
            "type": "message",
            "channel": "DU0X",
            "channel_type": "im",
            "subtype": "message_changed",
            "message": {"text": "x"},
            "ts": ts,
        }
        for event in (own, bot, edit):
            await slack.deliver("events_api", slack.event_body(event))
        sent = await slack.say("U0ANNA", "still here?")
    assert [s.text.splitlines()[0] for s in sent] == ["echo: still here?"]
    assert [m.text for m in responder.received] == ["still here?"]


# --- slash commands ----------------------------------------------------------------------------


async def test_slash_command_is_acked_at_once_then_answered(responder: EchoResponder) -> None:
    responder.gate = asyncio.Event()
    async with running_slack(responder) as slack:
        payload = slack.slash_payload("U0ANNA", "what is partner scouting?", "DU0ANNA")
        body = urlencode(payload).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        status, text = await slack.post_raw(body, headers)
        # the HTTP answer came back while the responder is still blocked: ack came first
        assert (status, text) == (200, "")
        assert slack.fake.sent == []
        responder.gate.set()
        await slack.fake.wait_for(lambda: len(slack.fake.sent) == 1)
        sent = slack.fake.sent
        call = slack.fake.calls("response_url")[0]
    assert "echo: what is partner scouting?" in sent[0].text
    assert sent[0].chat_id == "DU0ANNA"
    assert call.params["response_type"] == "in_channel"  # a DM keeps the answer
    assert responder.received[0].event_id == payload["trigger_id"]
    assert responder.received[0].chat_type == "private"


async def test_slash_command_words_become_commands(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        calls = await slack.say("U0ANNA", "/cluster-ignored", slash=True, expect=1)
        assert calls  # "/cluster /cluster-ignored": a command the core does not know
        responder.received.clear()
        for text in ("calls", "calls horizon 2026", "/calls", "/events munich", ""):
            await slack.deliver("slash_commands", slack.slash_payload("U0ANNA", text, "DU0ANNA"))
        await slack.deliver(
            "slash_commands", slack.slash_payload("U0ANNA", "what are calls?", GROUP_CHANNEL)
        )
        await slack.fake.wait_for(lambda: len(responder.received) == 6)
        await slack.fake.wait_for(lambda: len(slack.fake.sent) == 7)
        group_call = next(
            c for c in slack.fake.calls("response_url") if "what are calls?" in c.params["text"]
        )
    got = sorted((m.command or "", m.args, m.text) for m in responder.received)
    assert got == sorted(
        [
            ("calls", "", "/calls"),
            ("calls", "horizon 2026", "/calls horizon 2026"),
            ("calls", "", "/calls"),
            ("events", "munich", "/events munich"),
            ("help", "", "/help"),
            ("", "", "what are calls?"),
        ]
    )
    question = next(m for m in responder.received if m.command is None)
    assert question.chat_type == "group"
    assert group_call.params["response_type"] == "ephemeral"


def test_to_incoming_for_slash_commands() -> None:
    body = {
        "command": "/cluster",
        "text": "  Calls   open ",
        "user_id": "U1",
        "channel_id": "C1",
        "trigger_id": "t.1",
        "user_name": "anna",
    }
    msg = to_incoming(body, commands=frozenset({"calls"}))
    assert msg is not None
    assert (msg.command, msg.args, msg.chat_type, msg.event_id, msg.display_name) == (
        "calls",
        "open",
        "group",
        "t.1",
        "anna",
    )
    assert to_incoming({**body, "channel_id": "D1"}, commands={"calls"}).chat_type == "private"  # type: ignore[union-attr]
    assert to_incoming({**body, "text": "Calls"}, commands=()).command is None  # type: ignore[union-attr]
    assert to_incoming({"type": "url_verification", "challenge": "x"}) is None


def test_to_incoming_for_events_strips_the_bot_mention() -> None:
    body = {
        "type": "event_callback",
        "event_id": "Ev1",
        "event": {
            "type": "app_mention",
            "user": "U1",
            "channel": "C1",
            "ts": "1.1",
            "text": "<@UBOT|clusterbot> /calls  <@U2> please",
        },
    }
    msg = to_incoming(body, bot_user_id="UBOT")
    assert msg is not None
    assert (msg.command, msg.args, msg.event_id, msg.chat_type) == (
        "calls",
        "<@U2> please",
        "Ev1",
        "group",
    )
    assert reply_thread(body) == "1.1"
    bare = {**body, "event": {**body["event"], "text": "<@UBOT>"}}  # type: ignore[dict-item]
    assert to_incoming(bare, bot_user_id="UBOT").command == "help"  # type: ignore[union-attr]
    channel_message = {
        **body,
        "event": {
            "type": "message",
            "channel_type": "channel",
            "user": "U1",
            "channel": "C1",
            "text": "hi",
            "ts": "1.2",
        },
    }
    assert to_incoming(channel_message, bot_user_id="UBOT") is None
    dm = {
        **body,
        "event": {
            "type": "message",
            "channel_type": "im",
            "user": "U1",
            "channel": "D1",
            "text": "hi",
            "ts": "1.3",
        },
    }
    assert reply_thread(dm) is None
    assert to_incoming(dm).chat_type == "private"  # type: ignore[union-attr]


# --- buttons -------------------------------------------------------------------------------------


async def test_button_tap_is_routed_and_answered_in_the_same_chat(
    responder: EchoResponder,
) -> None:
    async with running_slack(responder) as slack:
        first = await slack.say("U0ANNA", "hello")
        tapped = await slack.tap("U0ANNA", first[0], "More")
        stop = await slack.tap("U0ANNA", first[0], "Stop alerts")
        link = await slack.tap("U0ANNA", first[0], "Website", expect=0)
    assert [s.text for s in tapped] == ["tapped more p1\ntapped more p1"]
    assert tapped[0].chat_id == "DU0ANNA"
    assert stop[0].text.startswith("tapped stop")
    assert link == []  # link buttons open the URL; nothing is routed
    taps = [m for m in responder.received if m.tap is not None]
    assert [(m.tap.action, m.tap.payload) for m in taps if m.tap] == [("more", "p1"), ("stop", "")]
    assert all(m.event_id for m in taps)


async def test_button_in_a_thread_is_answered_in_that_thread(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        first = await slack.say("U0BEN", "hello", group=True)
        tapped = await slack.tap("U0BEN", first[0], "More")
    assert first[0].thread is not None
    assert (tapped[0].chat_id, tapped[0].thread) == (GROUP_CHANNEL, first[0].thread)
    assert responder.received[-1].chat_type == "group"


async def test_button_under_an_ephemeral_answer_answers_through_response_url(
    responder: EchoResponder,
) -> None:
    async with running_slack(responder) as slack:
        first = await slack.say("U0BEN", "what now?", group=True, slash=True)
        assert slack.fake.message(first[0].message_id).ephemeral
        tapped = await slack.tap("U0BEN", first[0], "More")
    assert tapped[0].text == "tapped more p1\ntapped more p1"
    assert tapped[0].chat_id == GROUP_CHANNEL
    assert slack.fake.calls("response_url")[-1].params["response_type"] == "ephemeral"


# --- HTTP hygiene ------------------------------------------------------------------------------


def _event_bytes(slack: Any, text: str = "hi") -> bytes:
    ts = slack.fake.next_ts()
    event = {
        "type": "message",
        "channel": "DU0A",
        "channel_type": "im",
        "user": "U0A",
        "text": text,
        "ts": ts,
    }
    return json.dumps(slack.event_body(event)).encode()


async def test_unsigned_badly_signed_and_stale_requests_get_401(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        body = _event_bytes(slack)
        json_ct = {"Content-Type": "application/json"}
        unsigned = await slack.post_raw(body, json_ct)
        bad = await slack.post_raw(body, {**json_ct, **sign(body, "not-the-secret")})
        stale = await slack.post_raw(
            body, {**json_ct, **sign(body, timestamp=int(time.time()) - 6 * 60)}
        )
        tampered_headers = {**json_ct, **sign(body)}
        tampered = await slack.post_raw(body.replace(b"hi", b"ho"), tampered_headers)
        sent = await slack.say("U0ANNA", "still answering?")
    assert [r[0] for r in (unsigned, bad, stale, tampered)] == [401, 401, 401, 401]
    assert [m.text for m in responder.received] == ["still answering?"]
    assert len(sent) == 1


async def test_body_over_one_megabyte_gets_413(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        body = b'{"type": "event_callback", "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
        status, _ = await slack.post_raw(body, {"Content-Type": "application/json", **sign(body)})
    assert status == 413
    assert responder.received == []


async def test_malformed_and_unknown_payloads_do_not_crash(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        statuses = []
        for body in (b"{not json", b"[1, 2]", b'{"type": "event_callback", "event": "x"}', b""):
            statuses.append(
                (await slack.post_raw(body, {"Content-Type": "application/json", **sign(body)}))[0]
            )
        reaction = {
            "type": "reaction_added",
            "user": "U0A",
            "reaction": "tada",
            "item": {"type": "message", "channel": "C1", "ts": "1.1"},
        }
        await slack.deliver("events_api", slack.event_body(reaction))
        challenge = json.dumps(
            {"type": "url_verification", "challenge": "abc123", "token": "x"}
        ).encode()
        verified = await slack.post_raw(
            challenge, {"Content-Type": "application/json", **sign(challenge)}
        )
        sent = await slack.say("U0ANNA", "after the noise")
    assert all(200 <= s < 500 for s in statuses), statuses
    assert verified[0] == 200
    assert "abc123" in verified[1]
    assert [m.text for m in responder.received] == ["after the noise"]
    assert len(sent) == 1


# --- redeliveries ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_redelivered_event_is_answered_once(responder: EchoResponder, mode: str) -> None:
    async with running_slack(responder, slack_mode=mode) as slack:
        sent = await slack.say("U0ANNA", "hello")
        again = await slack.redeliver_last(expect=0)
    assert len(sent) == 1
    assert again == []
    assert [m.event_id for m in responder.received] == [responder.received[0].event_id] * 2


async def test_redelivered_slash_command_keeps_its_trigger_id(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        await slack.say("U0ANNA", "/calls")
        again = await slack.redeliver_last(expect=0)
    assert again == []
    assert len({m.event_id for m in responder.received}) == 1


# --- rendering -----------------------------------------------------------------------------------


def _mrkdwn(payload: dict[str, object]) -> str:
    blocks: Any = payload["blocks"]
    texts = [str(payload["text"])]
    for block in blocks:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
    return "\n".join(texts)


def test_render_escapes_document_and_user_text() -> None:
    reply = Reply(
        text="Ask <!here> & <@U123> about <https://evil.example|this>",
        sources=(
            SourceRef(n=1, title="<!channel> win", source="https://docs.example/a?x=1&y=<2>|z"),
            SourceRef(
                n=2, title="R&D <tips>", source="notes.md", section="A > B", record_id="ID<1>"
            ),
        ),
    )
    text = _mrkdwn(render(reply))
    assert "&lt;!channel&gt; win" in text
    assert "<!channel>" not in text
    assert "<!here>" not in text
    assert "<@U123>" not in text
    assert "Ask &lt;!here&gt; &amp; &lt;@U123&gt; about &lt;https://evil.example|this&gt;" in text
    assert "<https://docs.example/a?x=1&amp;y=%3C2%3E%7Cz|&lt;!channel&gt; win>" in text
    assert "[2] R&amp;D &lt;tips&gt; · ID&lt;1&gt; · A &gt; B · notes.md" in text
    # the only raw < in the whole message is the one link we made
    assert text.count("<") == 1


async def test_hostile_text_reaches_slack_escaped(responder: EchoResponder) -> None:
    responder.replies["hostile"] = Reply(
        text="<!channel> <@U0BOSS> & <https://phish.example|bank>",
        sources=(SourceRef(n=1, title="<!channel> win", source="https://x.example"),),
    )
    async with running_slack(responder) as slack:
        sent = await slack.say("U0ANNA", "hostile")
    assert "&lt;!channel&gt; win" in sent[0].text
    assert "<!channel>" not in sent[0].text
    assert "<@U0BOSS>" not in sent[0].text
    assert "&lt;https://phish.example|bank&gt;" in sent[0].text


def test_render_splits_long_text_into_sections_without_breaking_entities() -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "word & " * 150 for i in range(12))
    payload = render(Reply(text=text))
    blocks: Any = payload["blocks"]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) > 3
    assert all(0 < len(s) <= 3000 for s in sections)
    assert all(not re.search(r"&(a|am)?$", s) for s in sections)
    joined = " ".join(" ".join(sections).split())
    assert joined == " ".join(escape(text).split())
    assert 0 < len(str(payload["text"])) <= 300
    hard = render(Reply(text="x" + "&" * 7000))  # no break anywhere, entities misaligned
    pieces = [b["text"]["text"] for b in hard["blocks"]]  # type: ignore[attr-defined]
    assert all(re.fullmatch(r"x?(&amp;)+", p) for p in pieces)
    assert "".join(pieces) == "x" + "&amp;" * 7000


def test_render_buttons_have_unique_action_ids_and_link_buttons() -> None:
    buttons = (
        *tuple(Button(f"B{i}", "pick", str(i)) for i in range(30)),
        Button("Docs", "docs", url="https://example.org/docs"),
    )
    blocks: Any = render(Reply(text="choose", buttons=buttons))["blocks"]
    actions = [b for b in blocks if b["type"] == "actions"]
    elements = [e for b in actions for e in b["elements"]]
    assert [len(b["elements"]) for b in actions] == [25, 6]
    assert len({e["action_id"] for e in elements}) == 31
    assert elements[0] == {
        "type": "button",
        "text": {"type": "plain_text", "text": "B0"},
        "action_id": "pick:0",
        "value": "0",
    }
    assert elements[-1]["url"] == "https://example.org/docs"
    assert "value" not in elements[-1]


async def test_long_reply_is_split_across_messages(responder: EchoResponder) -> None:
    paragraphs = "\n\n".join(f"Part {i}. " + "x" * 2900 for i in range(60))
    responder.replies["long"] = Reply(
        text=paragraphs,
        sources=(SourceRef(n=1, title="Guide", source="guide.md"),),
        buttons=(Button("More", "more", "p"),),
    )
    async with running_slack(responder) as slack:
        sent = await slack.say("U0ANNA", "long", expect=2)
        posts = slack.fake.calls("chat.postMessage")
    assert len(sent) == 2
    assert [len(call.params["blocks"]) for call in posts] == [50, 12]
    assert all(call.params["text"].strip() for call in posts)
    assert sent[0].buttons == []
    assert [b for b, _ in sent[1].buttons] == ["More"]
    assert "Part 0." in sent[0].text
    assert "Part 59." in sent[1].text
    assert "*Sources*" in sent[1].text


# --- failures while handling -----------------------------------------------------------------


async def test_responder_failure_gets_an_apology_with_the_logged_reference(
    responder: EchoResponder, caplog: pytest.LogCaptureFixture
) -> None:
    responder.fail = True
    caplog.set_level(logging.DEBUG)
    async with running_slack(responder) as slack:
        sent = await slack.say("U0ANNA", "break please")
        slashed = await slack.say("U0ANNA", "/calls")
    match = APOLOGY.search(sent[0].text)
    assert match, sent[0].text
    ref = match.group(1)
    failures = [
        r for r in caplog.records if r.name == "bot.slack" and r.exc_info and ref in r.getMessage()
    ]
    assert len(failures) == 1
    assert "the knowledge base is on fire" in caplog.text  # the traceback is in the log...
    assert "on fire" not in sent[0].text  # ...and never in the reply
    assert APOLOGY.search(slashed[0].text)
    for secret in SECRETS:
        assert secret not in caplog.text


async def test_failed_delivery_is_logged_not_raised(
    responder: EchoResponder, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_slack(responder) as slack:
        slack.fake.fail_next("chat.postMessage", status="channel_not_found", times=2)
        sent = await slack.say("U0ANNA", "into the void", expect=0)
        later = await slack.say("U0ANNA", "and now?")
    assert sent == []
    assert "echo: and now?" in later[0].text
    assert "could not send the apology" in caplog.text


# --- send(): the Sender and its errors ---------------------------------------------------------


def _settings(fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_app_token": APP_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "slack_mode": "http",
    }
    values.update(overrides)
    return Settings(**values)


async def test_send_returns_the_message_ts_and_uses_the_thread(responder: EchoResponder) -> None:
    async with FakeSlack() as fake:
        channel = SlackChannel(settings=_settings(fake), responder=responder)
        ts = await channel.send("U0ANNA", Reply(text="proactive"), thread="1.5")
        await channel.stop()
    call = fake.calls("chat.postMessage")[0]
    assert ts == fake.sent[0].message_id
    assert call.params["thread_ts"] == "1.5"
    assert fake.sent[0].chat_id == "DU0ANNA"


async def test_send_maps_rate_limits(responder: EchoResponder) -> None:
    async with FakeSlack() as fake:
        channel = SlackChannel(settings=_settings(fake), responder=responder)
        await channel.start()
        fake.fail_next("chat.postMessage", status=429, retry_after=30)
        with pytest.raises(DeliveryError) as caught:
            await channel.send("C1", Reply(text="hi"))
        assert (caught.value.permanent, caught.value.retry_after) == (False, 30.0)
        assert len(fake.calls("chat.postMessage")) == 1  # a long wait is the caller's to schedule
        fake.fail_next("chat.postMessage", status=429, retry_after=0)
        ts = await channel.send("C1", Reply(text="hi again"))  # a short one is retried in place
        await channel.stop()
    assert ts
    assert len(fake.calls("chat.postMessage")) == 3


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        ("channel_not_found", True),
        ("is_archived", True),
        ("not_in_channel", True),
        ("account_inactive", True),
        (403, True),
        (500, False),
        (503, False),
        ("internal_error", False),
    ],
)
async def test_send_maps_platform_errors(
    responder: EchoResponder, status: int | str, permanent: bool
) -> None:
    async with FakeSlack() as fake:
        channel = SlackChannel(settings=_settings(fake), responder=responder)
        fake.fail_next("chat.postMessage", status=status)
        with pytest.raises(DeliveryError) as caught:
            await channel.send("C1", Reply(text="hi"))
        await channel.stop()
    assert caught.value.permanent is permanent
    assert caught.value.retry_after is None
    assert BOT_TOKEN not in str(caught.value)


async def test_send_maps_a_stall_to_a_transient_error(responder: EchoResponder) -> None:
    async with FakeSlack() as fake:
        channel = SlackChannel(settings=_settings(fake), responder=responder, timeout=0.3)
        await channel.start()
        fake.stall_next("chat.postMessage", 3.0)
        with pytest.raises(DeliveryError) as caught:
            await channel.send("C1", Reply(text="slow"))
        await channel.stop()
    assert caught.value.permanent is False
    assert "timed out" in str(caught.value)


async def test_attachment_goes_through_the_files_v2_flow(responder: EchoResponder) -> None:
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    responder.replies["the event"] = Reply(
        text="Here is the meeting.", attachments=(Attachment("meeting.ics", ics, "text/calendar"),)
    )
    async with running_slack(responder) as slack:
        sent = await slack.say("U0ANNA", "the event", expect=2)
        methods = [c.method for c in slack.fake.calls() if c.method not in ("auth.test",)]
    assert methods == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert sent[0].text.startswith("Here is the meeting.")
    assert sent[1].files == [("meeting.ics", ics)]
    assert sent[1].chat_id == "DU0ANNA"


# --- start-up and configuration ------------------------------------------------------------------


async def test_invalid_bot_token_is_a_configuration_error(responder: EchoResponder) -> None:
    async with FakeSlack() as fake:
        wrong = "xoxb-9999-not-the-right-token"
        channel = SlackChannel(
            settings=_settings(fake, slack_bot_token=wrong), responder=responder
        )
        with pytest.raises(ConfigurationError) as caught:
            await channel.start()
        await channel.stop()
        missing = SlackChannel(settings=_settings(fake, slack_bot_token=None), responder=responder)
        with pytest.raises(ConfigurationError) as caught_missing:
            await missing.start()
    assert "CLUSTERBOT_SLACK_BOT_TOKEN" in str(caught.value)
    assert wrong not in str(caught.value)
    assert "CLUSTERBOT_SLACK_BOT_TOKEN" in str(caught_missing.value)


async def test_socket_mode_needs_a_valid_app_token(responder: EchoResponder) -> None:
    async with FakeSlack() as fake:
        missing = SlackChannel(
            settings=_settings(fake, slack_mode="socket", slack_app_token=None),
            responder=responder,
        )
        with pytest.raises(ConfigurationError) as caught:
            await missing.start()
        wrong = SlackChannel(
            settings=_settings(fake, slack_mode="socket", slack_app_token="xapp-1-wrong-token"),
            responder=responder,
        )
        with pytest.raises(ConfigurationError) as caught_wrong:
            await wrong.start()
        await wrong.stop()
    assert "CLUSTERBOT_SLACK_APP_TOKEN" in str(caught.value)
    assert "CLUSTERBOT_SLACK_APP_TOKEN" in str(caught_wrong.value)
    assert "xapp-1-wrong-token" not in str(caught_wrong.value)


async def test_http_mode_needs_the_signing_secret(responder: EchoResponder) -> None:
    async with FakeSlack() as fake:
        channel = SlackChannel(
            settings=_settings(fake, slack_signing_secret=None), responder=responder
        )
        with pytest.raises(ConfigurationError, match="CLUSTERBOT_SLACK_SIGNING_SECRET"):
            await channel.start()


async def test_health_routes_and_stop(responder: EchoResponder) -> None:
    async with FakeSlack() as fake:
        channel = SlackChannel(settings=_settings(fake), responder=responder)
        assert await channel.health() == {
            "ok": False,
            "mode": "http",
            "team": None,
            "bot_user": None,
        }
        await channel.start()
        await channel.start()  # idempotent
        assert await channel.health() == {
            "ok": True,
            "mode": "http",
            "team": fake.team_name,
            "bot_user": BOT_USER_ID,
        }
        assert [r.path for r in channel.routes()] == ["/slack/events"]
        await channel.stop()
        await channel.stop()
        assert (await channel.health())["ok"] is False
        socket = SlackChannel(settings=_settings(fake, slack_mode="socket"), responder=responder)
        assert socket.routes() == []


# --- Socket Mode -----------------------------------------------------------------------------


async def test_socket_mode_round_trip(
    responder: EchoResponder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_slack(responder, slack_mode="socket") as slack:
        fake = slack.fake
        assert fake.calls("apps.connections.open")[0].token == APP_TOKEN
        sent = await slack.say("U0ANNA", "over the socket")
        acked = fake.acks[-1]
        mention = await slack.say("U0BEN", "in public", group=True)
        slashed = await slack.say("U0ANNA", "/calls 2026")
        tapped = await slack.tap("U0ANNA", sent[0], "More")
    assert "echo: over the socket" in sent[0].text
    assert acked["envelope_id"]
    assert mention[0].thread is not None
    assert slashed[0].text.startswith("command calls args='2026'")
    assert tapped[0].text.startswith("tapped more p1")
    assert len(fake.acks) == 5  # DM, message + app_mention, slash command, button
    for secret in SECRETS:
        assert secret not in caplog.text


async def test_socket_mode_health(responder: EchoResponder) -> None:
    async with running_slack(responder, slack_mode="socket") as slack:
        assert slack.fake.connected
        health = await slack.adapter.health()
    assert health == {
        "ok": True,
        "mode": "socket",
        "team": "Life Science Cluster",
        "bot_user": BOT_USER_ID,
    }
    assert not slack.fake.connected


async def test_fake_serves_lookups_and_harness_takes_settings(
    responder: EchoResponder, tmp_path: Any
) -> None:
    base = Settings(data_dir=tmp_path, slack_mode="socket")
    async with running_slack(responder, settings=base) as slack:
        client = slack.adapter.client
        info = await client.conversations_info(channel="D0X")
        user = await client.users_info(user="U0ANNA")
        sent = await slack.say("U0ANNA", "hi")
    assert slack.mode == "http"  # the harness runs HTTP mode unless told otherwise
    assert info["channel"]["is_im"] is True
    assert user["user"]["id"] == "U0ANNA"
    assert len(sent) == 1
    assert slack.fake.calls("conversations.info")[0].params == {"channel": "D0X"}
    assert slack.fake.calls("users.info")[0].params == {"user": "U0ANNA"}


async def test_driver_reports_missing_answers_clearly(responder: EchoResponder) -> None:
    responder.replies["quiet"] = Reply(text="x")
    async with running_slack(responder) as slack:
        with pytest.raises(AssertionError, match="expected 2 new message"):
            await slack.say("U0ANNA", "quiet", expect=2, timeout=0.5)


def test_incoming_text_is_plain_text() -> None:
    assert plain("R&amp;D &lt;b&gt; <https://x.org/a?b=1&amp;c=2|x.org> <https://y.org>") == (
        "R&D <b> x.org https://y.org"
    )
    assert plain("see <#C0123|general> <!here> <@U0ANNA>") == "see #general @here <@U0ANNA>"
    body = {
        "command": "/cluster",
        "text": "calls &amp; events",
        "user_id": "U1",
        "channel_id": "D1",
    }
    msg = to_incoming(body, commands={"calls"})
    assert msg is not None
    assert (msg.command, msg.args) == ("calls", "& events")


async def test_user_text_roundtrips_escaped(responder: EchoResponder) -> None:
    async with running_slack(responder) as slack:
        sent = await slack.say("U0ANNA", "R&D <tips>")
    assert responder.received[0].text == "R&D <tips>"
    assert "echo: R&amp;D &lt;tips&gt;" in sent[0].text


async def test_stop_lets_answers_in_progress_finish(responder: EchoResponder) -> None:
    responder.gate = asyncio.Event()
    async with running_slack(responder) as slack:
        await slack.say("U0ANNA", "slow one", expect=0)
        assert responder.received  # the answer is under way
        stopping = asyncio.create_task(slack.adapter.stop())
        await asyncio.sleep(0)
        responder.gate.set()
        await stopping
        sent = slack.fake.sent
    assert len(sent) == 1
    assert "echo: slow one" in sent[0].text


def test_render_edge_cases() -> None:
    only_buttons = render(Reply(text="", buttons=(Button("Go <now>", "go"),)))
    assert only_buttons["text"] == "Go &lt;now&gt;"
    odd_link = render(Reply(text="x", buttons=(Button("Bad", "bad", url="javascript:alert(1)"),)))
    assert odd_link["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]
    assert render(Reply(text=""))["text"] == "…"


def test_to_incoming_ignores_incomplete_payloads() -> None:
    assert (
        to_incoming({"type": "event_callback", "event": {"type": "message", "text": "hi"}}) is None
    )
    assert (
        to_incoming(
            {
                "type": "event_callback",
                "event": {"type": "reaction_added", "user": "U1", "channel": "C1", "text": ""},
            }
        )
        is None
    )
    dm = {"type": "message", "channel_type": "im", "user": "U1", "channel": "D1", "text": "  "}
    assert to_incoming({"type": "event_callback", "event": dm}) is None
    assert to_incoming({"command": "/cluster", "text": "hi"}) is None
    assert to_incoming({"type": "block_actions", "actions": []}) is None
    foreign = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "actions": [{"action_id": "no-index"}],
    }
    assert to_incoming(foreign) is None
    link = {**foreign, "actions": [{"action_id": "_link:3", "url": "https://x.org"}]}
    assert to_incoming(link) is None
    tap = {
        **foreign,
        "actions": [{"action_id": "more:0", "value": "p"}],
        "container": {"thread_ts": "9.9"},
    }
    msg = to_incoming(tap)
    assert msg is not None
    assert msg.tap is not None
    assert (msg.tap.action, msg.tap.payload, msg.chat_type) == ("more", "p", "group")
    assert reply_thread(tap) == "9.9"
    assert reply_thread({"command": "/cluster"}) is None


async def test_start_reports_an_unreachable_or_failing_slack(responder: EchoResponder) -> None:
    async with FakeSlack() as fake:
        fake.fail_next("auth.test", status=500)
        channel = SlackChannel(settings=_settings(fake), responder=responder)
        with pytest.raises(ConnectionError, match=r"auth\.test"):
            await channel.start()
        fake.fail_next("apps.connections.open", status="internal_error")
        socket = SlackChannel(settings=_settings(fake, slack_mode="socket"), responder=responder)
        with pytest.raises(ConnectionError, match=r"apps\.connections\.open"):
            await socket.start()
        url = fake.api_url
    gone = SlackChannel(settings=_settings(fake, slack_api_url=url), responder=responder)
    with pytest.raises(ConnectionError, match=r"auth\.test"):
        await gone.start()


async def test_send_maps_upload_failures(responder: EchoResponder) -> None:
    reply = Reply(text="file", attachments=(Attachment("a.txt", b"abc"),))
    async with FakeSlack() as fake:
        channel = SlackChannel(settings=_settings(fake), responder=responder)
        fake.fail_next("upload", status=500)
        with pytest.raises(DeliveryError) as caught:
            await channel.send("C1", reply)
        fake.fail_next("files.completeUploadExternal", status="channel_not_found")
        with pytest.raises(DeliveryError) as gone:
            await channel.send("C1", reply)
        files_only = await channel.send(
            "D1", Reply(text="", attachments=(Attachment("b.txt", b"b"),))
        )
    assert caught.value.permanent is False
    assert gone.value.permanent is True
    assert files_only.startswith("F")


async def test_failed_response_url_is_logged(
    responder: EchoResponder, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_slack(responder) as slack:
        slack.fake.fail_next("response_url", status=500, times=2)
        sent = await slack.say("U0ANNA", "/calls", expect=0)
        await slack.fake.wait_for(lambda: len(slack.fake.calls("response_url")) == 2)
        await slack.adapter.stop()
    assert sent == []
    assert "response_url answered HTTP 500" in caplog.text
    assert "could not send the apology" in caplog.text
