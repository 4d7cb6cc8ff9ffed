"""/scout and /requests through the assistant: the SME's questions, the shortlist, staff
actions, and contact details that stay hidden until both sides accepted."""

from __future__ import annotations

from sqlalchemy import select

from bot.admin import set_role
from bot.app import App
from bot.cli_scouting import DEMO_PORTFOLIO, import_demo_portfolio
from bot.handlers import COMMANDS, STAFF_COMMANDS
from bot.handlers.unanswered import PRIVATE_ONLY, STAFF_ONLY
from bot.messages import Reply, reply_from_data
from ingest.assets import parse_assets
from storage.models import Chunk, Delivery, Organisation, Person
from storage.people import find_identity
from tests.bot.chat import Chat, onboard

CONTACTS = [
    value
    for record in parse_assets(DEMO_PORTFOLIO.name, DEMO_PORTFOLIO.read_bytes()).records
    for key, value in record.fields["contact"].items()
    if key in ("email", "phone")
]
EMAIL = "ingrid@halvorsen-dx.example"


def _no_contacts(*replies: Reply) -> None:
    for reply in replies:
        shown = reply.text + " ".join(b.label + b.payload for b in reply.buttons)
        assert not [c for c in CONTACTS if c in shown], reply.text


async def _staff(app: App, user: str = "staff1") -> Chat:
    chat = Chat(app.assistant, user=user, chat=f"chat-{user}")
    await chat.say("/help")
    await set_role(app.sessions, f"test:{user}", "staff", actor="test")
    return chat


async def _outbox(app: App, user: str) -> list[Reply]:
    async with app.sessions() as session:
        identity = await find_identity(session, "test", user)
        assert identity is not None
        rows = await session.scalars(
            select(Delivery).where(Delivery.person_id == identity.person_id).order_by(Delivery.id)
        )
        return [reply_from_data(r.payload) for r in rows]


async def test_the_three_questions_lead_to_a_shortlist_with_introduction_buttons(
    app: App, chat: Chat
) -> None:
    await import_demo_portfolio(app)
    await onboard(chat)
    first = await chat.say("/scout")
    assert "What technology or expertise" in first.text
    kinds = await chat.say("sepsis diagnostics")
    assert "What kind of partner?" in kinds.text
    assert "Any" in chat.labels()
    await chat.tap("SME")
    region = chat.last
    assert region is not None
    assert "Nordics" in chat.labels()
    shortlist = await chat.tap("Nordics")
    assert "Scouting request #1: sepsis diagnostics, SME, in Nordics." in shortlist.text
    assert "1. Point-of-care sepsis biomarker panel (Halvorsen Diagnostics AS, SME, Norway)" in (
        shortlist.text
    )
    assert "Why: about sepsis, diagnostics; SME, as asked; in Norway (Nordics)" in shortlist.text
    assert chat.labels()[0] == "Ask for an introduction (1)"
    noted = await chat.tap("Ask for an introduction (1)")
    assert (
        "the cluster team will contact Halvorsen Diagnostics AS about “Point-of-care sepsis"
        in noted.text
    )
    mine = await chat.say("/scout mine")
    assert "• Point-of-care sepsis biomarker panel: introduction asked" in mine.text
    _no_contacts(*chat.history)
    # The flow is over: free text is a question again.
    assert "Scouting request" not in (await chat.say("What is PartnerScout?")).text


async def test_one_line_requests_and_their_mistakes(app: App, chat: Chat) -> None:
    await import_demo_portfolio(app)
    reply = await chat.say("/scout organ-on-chip | university | DACH")
    assert "organ-on-chip, University, in DACH" in reply.text
    assert "Liver-on-chip for drug-induced liver injury testing" in reply.text
    assert "University, as asked" in reply.text
    _no_contacts(reply)
    assert "Say what you seek first" in (await chat.say("/scout | university")).text
    assert "at most three parts" in (await chat.say("/scout a | b | c | d")).text
    nothing = await chat.say("/scout quantum computing for logistics")
    assert "I found no good match" in nothing.text
    assert not nothing.buttons


async def test_scouting_is_private_and_requests_are_for_staff_only(app: App, chat: Chat) -> None:
    group = Chat(app.assistant, user="u1", chat="g1", chat_type="group")
    assert "private chat" in (await group.say("/scout organ-on-chip")).text
    assert (await chat.say("/requests")).text == STAFF_ONLY
    assert "no scouting requests yet" in (await chat.say("/scout mine")).text
    await set_role(app.sessions, "test:u1", "staff", actor="test")
    assert (await group.say("/requests")).text == PRIVATE_ONLY
    assert "requests" in STAFF_COMMANDS
    assert "scout" in COMMANDS
    assert (await chat.say("/requests")).text == "No scouting requests are open."
    assert "Use /requests to list them" in (await chat.say("/requests frobnicate 1")).text


async def test_staff_introduce_when_the_counterpart_is_offline_then_record_a_contract(
    app: App, chat: Chat
) -> None:
    await import_demo_portfolio(app)
    staff = await _staff(app)
    await chat.say("/scout fill-finish | any | Denmark")
    await chat.tap("Ask for an introduction (1)")
    listing = await staff.say("/requests")
    assert "Request #1" in listing.text
    assert "Status: introduction asked" in listing.text
    _no_contacts(listing)
    offline = await staff.tap("Introduce #")
    assert "Nobody of Nordfill ApS takes partner requests through the bot" in offline.text
    assert not [r for r in await _outbox(app, "u1") if "nordfill.example" in r.text]
    ref = offline.text.split("/requests accepted ")[1].split()[0]
    accepted = await staff.say(f"/requests accepted {ref}")
    assert "Both sides get each other's contact details now" in accepted.text
    (contact,) = [r for r in await _outbox(app, "u1") if "Introduction agreed" in r.text]
    assert "sales@nordfill.example" in contact.text
    assert "+45 86 555 0114" in contact.text
    contract = await staff.tap(f"Contract #{ref}", await staff.say("/requests"))
    assert "Recorded a contract with Sterile fill-finish" in contract.text
    shown = await staff.say("/requests show 1")
    assert "Status: contract signed" in shown.text
    closed = await staff.say("/requests close 1")
    assert closed.text == "Closed request #1. The requester was told."
    assert "already closed" in (await staff.say("/requests close 1")).text


async def test_a_counterpart_in_the_bot_accepts_with_a_tap(app: App, chat: Chat) -> None:
    await import_demo_portfolio(app)
    staff = await _staff(app)
    other = Chat(app.assistant, user="hal", chat="chat-hal")
    await onboard(other)
    async with app.sessions.begin() as session:
        identity = await find_identity(session, "test", "hal")
        assert identity is not None
        person = await session.get_one(Person, identity.person_id)
        org = await session.get_one(Organisation, person.organisation_id)
        org.name = "Halvorsen Diagnostics AS"
    await onboard(chat)
    await chat.say("/scout sepsis point-of-care test | any | Norway")
    await chat.tap("Ask for an introduction (1)")
    refused = await staff.tap("Introduce #", await staff.say("/requests"))
    assert "takes partner requests through the bot" in refused.text  # no consent yet
    assert await _outbox(app, "hal") == []
    assert "partner" in (await other.say("/alerts on partners")).text.lower()
    asked = await staff.tap("Introduce #", await staff.say("/requests"))
    assert "Asked 1 person(s) of Halvorsen Diagnostics AS" in asked.text
    (question,) = await _outbox(app, "hal")
    _no_contacts(question)
    assert "Acme" not in question.text  # the requester stays anonymous until both accept
    thanks = await other.tap("Accept", question)
    assert "You'll both get each other's contact details now" in thanks.text
    to_sme = [r.text for r in await _outbox(app, "u1") if "Introduction agreed" in r.text]
    assert EMAIL in to_sme[0]
    to_counterpart = (await _outbox(app, "hal"))[-1].text
    assert "Organisation: Acme Diagnostics GmbH" in to_counterpart
    again = await other.tap("Decline", question)
    assert "already settled" in again.text
    stranger = Chat(app.assistant, user="x", chat="chat-x")
    assert "not sent to you" in (await stranger.tap("Accept", question)).text


async def test_portfolio_contacts_never_reach_the_documents_or_answers(
    app: App, chat: Chat
) -> None:
    before = app.index.count()
    await import_demo_portfolio(app)
    assert app.index.count() == before  # nothing of the portfolio is embedded
    async with app.sessions() as session:
        texts = list(await session.scalars(select(Chunk.text)))
    assert not [c for c in CONTACTS if any(c in t for t in texts)]
    for question in (
        "What is the e-mail of the contact for the sepsis biomarker panel at Halvorsen?",
        "Who do I contact about the liver-on-chip at the University of Korvenstad?",
        "Phone number of Nordfill fill-finish",
    ):
        reply = await chat.say(question)
        _no_contacts(reply)
        assert not [c for c in CONTACTS if any(c in s.title + s.source for s in reply.sources)]


async def test_help_lists_scout_for_members_and_requests_for_staff(app: App, chat: Chat) -> None:
    member = (await chat.say("/help")).text
    assert "/scout" in member
    assert "/requests" not in member
    await set_role(app.sessions, "test:u1", "staff", actor="test")
    assert "/requests" in (await chat.say("/help")).text
