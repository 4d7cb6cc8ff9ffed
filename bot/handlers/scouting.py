"""Partner scouting: SMEs say what they seek, staff broker the introductions.

Members: ``/scout`` asks three questions (technology, partner type, region), or takes them
on one line, ``/scout TECHNOLOGY | PARTNER TYPE | REGION``; the reply is a shortlist with an
"Ask for an introduction" button per candidate; ``/scout mine`` shows their requests. Contact
details come only once both sides accepted, as a message from the bot.

Staff (private chat only): ``/requests`` lists open requests with their candidates;
``/requests show|introduce|accepted|contract|decline|close ID`` acts on one, as do the
buttons under the list. The counterpart, when its people use the bot, gets Accept/Decline.
"""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.handlers.common import parse_id, private_only, staff_refusal
from bot.messages import Button, Incoming, Reply
from bot.scouting import (
    Opened,
    candidate_status,
    describe_candidate,
    describe_query,
    describe_request,
    get_request,
    open_request,
    parse_one_line,
    requests,
)
from bot.scouting_intro import ANSWER as COUNTERPART
from bot.scouting_intro import (
    ask_introduction,
    close_request,
    counterpart_answer,
    introduce,
    mark_contract,
    record_acceptance,
    set_stage,
)
from knowledge.scouting import PARTNER_TYPES, ScoutingQuery, embedder_of, partner_type_key
from storage.people import clear_state, get_state, set_state

FLOW = "scout"
#: Button actions: partner type, region (flow); introduction (SME); staff verbs.
TYPE = "sctype"
REGION = "screg"
INTRO = "scint"
STAFF = "screq"
_REGIONS = ("Anywhere", "Europe", "DACH", "Nordics", "Benelux")
_VERBS = ("show", "introduce", "accepted", "contract", "decline", "close")
_LISTED = 5


async def handle_scout(msg: Incoming, ctx: Context) -> Reply:
    """Start a scouting request: three questions, or all on one line."""
    if (elsewhere := private_only(msg, "partner scouting")) is not None:
        return elsewhere
    if msg.args.strip().lower() == "mine":
        return await _mine(ctx)
    if msg.args.strip():
        return await _run(ctx, parse_one_line(msg.args))
    async with ctx.sessions.begin() as session:
        await set_state(session, ctx.caller.channel, ctx.caller.user_id, flow=FLOW, step="tech")
    return Reply(
        "Partner scouting: tell me what you seek and I'll look through the cluster's portfolio "
        "and open offers.\n\nWhat technology or expertise do you need? "
        "(e.g. organ-on-chip, GMP viral vectors)\n\nTip: /scout TECHNOLOGY | PARTNER TYPE | "
        "REGION does it in one line."
    )


async def _mine(ctx: Context) -> Reply:
    """The caller's own requests and how far each shortlisted candidate got."""
    found = await requests(ctx.sessions, status=None, person_id=ctx.caller.person_id, limit=5)
    if not found:
        return Reply("You have no scouting requests yet. /scout starts one.")
    parts = []
    for view in found:
        lines = [
            f"Request #{view.id} ({view.created_at:%Y-%m-%d}, {view.status}): "
            f"{describe_query(view)}"
        ]
        lines += [f"• {c.title}: {candidate_status(c)}" for c in view.shortlist]
        parts.append("\n".join(lines))
    return Reply("Your scouting requests:\n\n" + "\n\n".join(parts))


def _type_question() -> Reply:
    buttons = tuple(Button(label, TYPE, key) for key, label in PARTNER_TYPES.items())
    return Reply(
        "What kind of partner? Tap one, or type it.",
        buttons=(*buttons, Button("Any", TYPE, "any")),
    )


def _region_question() -> Reply:
    return Reply(
        "Where should the partner be? Type countries or a region (e.g. Germany, Nordics), "
        "or tap one.",
        buttons=tuple(Button(r, REGION, r) for r in _REGIONS),
    )


async def scout_text(msg: Incoming, ctx: Context) -> Reply:
    """An answer typed during the scouting questions."""
    text = msg.text.strip()
    async with ctx.sessions.begin() as session:
        state = await get_state(session, ctx.caller.channel, ctx.caller.user_id)
        if state is None or state.flow != FLOW:
            raise UserError("No scouting request is being set up; /scout starts one.")
        data = dict(state.data)
        step = state.step
        if step == "tech":
            parse_one_line(text)  # the same checks as the one-line form
            data["technology"] = text
            await set_state(
                session, ctx.caller.channel, ctx.caller.user_id, flow=FLOW, step="type", data=data
            )
            return _type_question()
        if step == "type":
            kind = None if text.lower() in ("any", "-") else partner_type_key(text)
            data["partner_type"] = kind
            await set_state(
                session,
                ctx.caller.channel,
                ctx.caller.user_id,
                flow=FLOW,
                step="region",
                data=data,
            )
            return _region_question()
        await clear_state(session, ctx.caller.channel, ctx.caller.user_id)
    return await _finish(ctx, data, text)


async def scout_type_tap(msg: Incoming, ctx: Context) -> Reply:
    """A partner type tapped during the scouting questions."""
    assert msg.tap is not None
    async with ctx.sessions.begin() as session:
        state = await get_state(session, ctx.caller.channel, ctx.caller.user_id)
        if state is None or state.flow != FLOW or "technology" not in state.data:
            return Reply("That question has passed; /scout starts a new request.")
        key = msg.tap.payload
        data = dict(state.data) | {"partner_type": None if key == "any" else key}
        await set_state(
            session, ctx.caller.channel, ctx.caller.user_id, flow=FLOW, step="region", data=data
        )
    return _region_question()


async def scout_region_tap(msg: Incoming, ctx: Context) -> Reply:
    """A region tapped: the request is complete."""
    assert msg.tap is not None
    async with ctx.sessions.begin() as session:
        state = await get_state(session, ctx.caller.channel, ctx.caller.user_id)
        if state is None or state.flow != FLOW or "technology" not in state.data:
            return Reply("That question has passed; /scout starts a new request.")
        data = dict(state.data)
        await clear_state(session, ctx.caller.channel, ctx.caller.user_id)
    return await _finish(ctx, data, msg.tap.payload)


async def _finish(ctx: Context, data: dict[str, object], region: str) -> Reply:
    kind = data.get("partner_type")
    query = ScoutingQuery(
        technology=str(data.get("technology", "")),
        partner_type=str(kind) if kind else None,
        region=None if region.lower() in ("anywhere", "any", "-", "") else region,
    )
    return await _run(ctx, query)


async def _run(ctx: Context, query: ScoutingQuery) -> Reply:
    opened = await open_request(
        ctx.sessions,
        person_id=ctx.caller.person_id,
        organisation_id=ctx.caller.organisation_id,
        query=query,
        today=ctx.clock.today(),
        audiences=ctx.caller.audiences,
        embedder=embedder_of(ctx.index),
    )
    return shortlist_reply(opened)


def shortlist_reply(opened: Opened) -> Reply:
    """The shortlist an SME sees, with an introduction button per candidate."""
    view = opened.request
    head = f"Scouting request #{view.id}: {describe_query(view)}."
    if not view.shortlist:
        return Reply(
            f"{head}\n\nI found no good match in the portfolio or the open offers. The "
            "cluster team has your request and will search further."
        )
    lines = [describe_candidate(c, n) for n, c in enumerate(view.shortlist, start=1)]
    return Reply(
        f"{head} I found {opened.identified} candidates; the best {len(lines)}:\n\n"
        + "\n\n".join(lines)
        + "\n\nTap to ask for an introduction: the cluster team contacts them, and once "
        "they accept you both get each other's contact details.",
        buttons=tuple(
            Button(f"Ask for an introduction ({n})", INTRO, str(c.id))
            for n, c in enumerate(view.shortlist, start=1)
        ),
    )


async def intro_tap(msg: Incoming, ctx: Context) -> Reply:
    """The SME asks to be introduced to a shortlisted candidate."""
    assert msg.tap is not None
    candidate_id = parse_id(msg.tap.payload)
    if candidate_id is None:
        return Reply("That button no longer works.")
    step = await ask_introduction(
        ctx.sessions, candidate_id=candidate_id, person_id=ctx.caller.person_id
    )
    if step.candidate.stage == "introduced":
        return Reply(f"You're introduced to {step.candidate.title}: their details are on the way.")
    who = step.candidate.owner or "the people behind it"
    return Reply(
        f"Noted: the cluster team will contact {who} about “{step.candidate.title}”. Once "
        "they accept, you both get each other's contact details here."
    )


async def answer_tap(msg: Incoming, ctx: Context) -> Reply:
    """The counterpart accepts or declines an introduction."""
    assert msg.tap is not None
    ref, _, verdict = msg.tap.payload.partition(":")
    candidate_id = parse_id(ref)
    if candidate_id is None or verdict not in ("yes", "no"):
        return Reply("That button no longer works.")
    step = await counterpart_answer(
        ctx.sessions,
        candidate_id=candidate_id,
        person_id=ctx.caller.person_id,
        accept=verdict == "yes",
    )
    if verdict == "no":
        return Reply("Thank you, I'll let them know it is not a fit right now.")
    if step.candidate.stage == "introduced":
        return Reply("Thank you! You'll both get each other's contact details now.")
    return Reply("Thank you, noted.")


async def handle_requests(msg: Incoming, ctx: Context) -> Reply:
    """Staff: list open scouting requests, or act on one (``/requests VERB ID``)."""
    if (refused := staff_refusal(ctx)) is not None:
        return refused
    verb, _, ref = msg.args.strip().lower().partition(" ")
    if not verb:
        return await _list(ctx)
    ref = ref.strip().lstrip("#")
    number = parse_id(ref)
    if verb not in _VERBS or number is None:
        return Reply(
            "Use /requests to list them, or /requests show|introduce|accepted|contract|"
            "decline|close ID (show and close take a request number, the rest a candidate "
            "number)."
        )
    return await _act(ctx, verb, number)


async def staff_tap(msg: Incoming, ctx: Context) -> Reply:
    """Staff: a button under the request list."""
    if (refused := staff_refusal(ctx)) is not None:
        return refused
    assert msg.tap is not None
    verb, _, ref = msg.tap.payload.partition(":")
    number = parse_id(ref)
    if verb not in _VERBS or number is None:
        return Reply("That button no longer works.")
    return await _act(ctx, verb, number)


async def _list(ctx: Context) -> Reply:
    found = await requests(ctx.sessions, status="open", limit=_LISTED + 1)
    if not found:
        return Reply("No scouting requests are open.")
    buttons: list[Button] = []
    for view in found[:_LISTED]:
        for c in view.candidates:
            if c.stage == "shortlisted" and c.requester_accepted:
                buttons.append(Button(f"Introduce #{c.id}", STAFF, f"introduce:{c.id}"))
            elif c.stage == "introduced":
                buttons.append(Button(f"Contract #{c.id}", STAFF, f"contract:{c.id}"))
    more = "\n\n(more are open; handle these first)" if len(found) > _LISTED else ""
    return Reply(
        "Open scouting requests:\n\n"
        + "\n\n".join(describe_request(v, shown=3) for v in found[:_LISTED])
        + more
        + "\n\n/requests show ID for all candidates; /requests accepted ID when a counterpart "
        "said yes offline; /requests close ID when done.",
        buttons=tuple(buttons[:10]),
    )


async def _act(ctx: Context, verb: str, ref: int) -> Reply:
    actor = f"person:{ctx.caller.person_id}"
    if verb == "show":
        return Reply(describe_request(await get_request(ctx.sessions, ref), shown=15))
    if verb == "close":
        told = await close_request(ctx.sessions, request_id=ref, actor=actor)
        return Reply(f"Closed request #{ref}." + (" The requester was told." if told else ""))
    if verb == "introduce":
        step = await introduce(ctx.sessions, candidate_id=ref, actor=actor)
        if step.notified:
            return Reply(
                f"Asked {step.notified} person(s) of {step.candidate.owner or 'the counterpart'} "
                f"to accept an introduction to the requester (candidate #{ref})."
            )
        return Reply(
            f"Nobody of {step.candidate.owner or step.candidate.title} takes partner requests "
            f"through the bot. Ask them offline, then send /requests accepted {ref} when they "
            "say yes."
        )
    if verb == "accepted":
        step = await record_acceptance(ctx.sessions, candidate_id=ref, actor=actor)
        return Reply(
            f"Recorded: {step.candidate.title} accepted. Both sides get each other's contact "
            f"details now ({step.notified} message(s) queued)."
        )
    if verb == "contract":
        step = await mark_contract(ctx.sessions, candidate_id=ref, actor=actor)
        return Reply(f"Recorded a contract with {step.candidate.title} (candidate #{ref}).")
    step = await set_stage(ctx.sessions, candidate_id=ref, stage="declined", actor=actor)
    return Reply(f"Candidate #{ref} ({step.candidate.title}) marked as declined.")


__all__ = [
    "COUNTERPART",
    "FLOW",
    "INTRO",
    "REGION",
    "STAFF",
    "TYPE",
    "answer_tap",
    "handle_requests",
    "handle_scout",
    "intro_tap",
    "scout_region_tap",
    "scout_text",
    "scout_type_tap",
    "shortlist_reply",
    "staff_tap",
]
