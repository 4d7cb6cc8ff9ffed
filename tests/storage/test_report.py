"""Report queries on the real schema: each counts only what falls in its half-open window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import SessionFactory
from storage.models import (
    Alert,
    AuditEntry,
    Delivery,
    Document,
    Feedback,
    Identity,
    Opportunity,
    Organisation,
    Person,
    Question,
    Rsvp,
    Source,
)
from storage.people import audit
from storage.report import (
    audit_entries,
    category_precision,
    engaged_people,
    forwarded,
    funnel,
    identities,
    meetings,
    question_refs,
    question_stats,
    stakeholders,
)

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
INSIDE = datetime(2026, 11, 15, 10, tzinfo=UTC)
BEFORE = START - timedelta(seconds=1)


async def _world(sessions: SessionFactory) -> dict[str, int]:
    """Two organisations, three people, two events, alerts and deliveries on both sides."""
    async with sessions.begin() as s:
        sme = Organisation(name="Acme", join_code="A1", org_type="sme", country="DE")
        lab = Organisation(name="Lab", join_code="L1", org_type="university", country="NO")
        s.add_all([sme, lab])
        await s.flush()
        ann = Person(organisation_id=sme.id, created_at=BEFORE)
        bob = Person(organisation_id=lab.id, created_at=BEFORE)
        cid = Person(organisation_id=None, created_at=BEFORE)
        dan = Person(organisation_id=lab.id, created_at=INSIDE)  # joined, did nothing else
        s.add_all([ann, bob, cid, dan])
        await s.flush()
        s.add(Identity(person_id=ann.id, channel="telegram", external_id="1", chat_id="1"))
        source = Source(uri="demo")
        s.add(source)
        await s.flush()
        opps = []
        for n, (kind, starts) in enumerate(
            [("funding_call", None), ("event", INSIDE), ("event", END), ("event", START)]
        ):
            doc = Document(
                source_id=source.id, external_id=f"X{n}", title=f"T{n}", content_hash="h"
            )
            s.add(doc)
            await s.flush()
            opp = Opportunity(
                source_id=source.id,
                document_id=doc.id,
                external_id=f"X{n}",
                kind=kind,
                title=f"Meeting {n}",
                starts_at=starts,
            )
            s.add(opp)
            await s.flush()
            opps.append(opp.id)
        call, in_window, at_end, at_start = opps

        def delivery(person: int, kind: str, key: str, at: datetime, **kw: object) -> Delivery:
            return Delivery(
                person_id=person,
                channel="telegram",
                chat_id="1",
                kind=kind,
                item_key=key,
                status=kw.pop("status", "sent"),
                sent_at=at,
                payload=kw.pop("payload", {"text": "x"}),
            )

        s.add_all(
            [
                delivery(ann.id, "alert", "a1", INSIDE),
                delivery(ann.id, "update", "u1", INSIDE),
                delivery(ann.id, "digest", "d1", START, payload={"text": "x", "sources": [1, 2]}),
                delivery(ann.id, "reminder", "r1", INSIDE),  # not a forwarded opportunity
                delivery(ann.id, "alert", "a2", END),  # after the window
                delivery(bob.id, "alert", "a3", INSIDE, status="failed"),  # never went out
            ]
        )
        s.add_all(
            [
                Alert(
                    person_id=ann.id,
                    opportunity_id=call,
                    category="funding",
                    score=0.5,
                    status="sent",
                    created_at=INSIDE,
                    sent_at=INSIDE,
                    feedback="relevant",
                    feedback_at=INSIDE,
                    saved=True,
                    applying=True,
                ),
                Alert(
                    person_id=bob.id,
                    opportunity_id=call,
                    category="funding",
                    score=0.4,
                    status="sent",
                    created_at=INSIDE,
                    sent_at=INSIDE,
                    feedback="not_for_us",
                    feedback_at=BEFORE,  # an odd clock: this feedback falls outside
                ),
                Alert(
                    person_id=cid.id,
                    opportunity_id=call,
                    category="events",
                    score=0.4,
                    status="sent",
                    created_at=BEFORE,
                    sent_at=BEFORE,
                    saved=True,
                ),
            ]
        )
        s.add_all(
            [
                Rsvp(person_id=ann.id, opportunity_id=in_window, created_at=BEFORE),
                Rsvp(person_id=bob.id, opportunity_id=in_window, created_at=INSIDE),
                Rsvp(
                    person_id=cid.id,
                    opportunity_id=in_window,
                    status="cancelled",
                    created_at=INSIDE,
                ),
                Rsvp(person_id=cid.id, opportunity_id=at_end, created_at=INSIDE),
            ]
        )
        asked = []
        for text, abstained, when in [
            ("q1", False, INSIDE),
            ("q2", True, INSIDE),
            ("q3", False, BEFORE),
        ]:
            q = Question(
                channel="telegram",
                user_ref="ref-ann",
                text=text,
                answer="a",
                abstained=abstained,
                confidence=0.5,
                asked_at=when,
                asked_for=when.date(),
            )
            s.add(q)
            await s.flush()
            asked.append(q.id)
        s.add_all(
            [
                Feedback(person_id=ann.id, question_id=asked[0], value="up", created_at=INSIDE),
                Feedback(person_id=bob.id, question_id=asked[1], value="down", created_at=INSIDE),
                Feedback(person_id=cid.id, question_id=asked[2], value="up", created_at=BEFORE),
            ]
        )
        return {
            "ann": ann.id,
            "bob": bob.id,
            "cid": cid.id,
            "at_start": at_start,
            "in_window": in_window,
            "dan": dan.id,
        }


async def test_each_query_counts_only_its_window(sessions: SessionFactory) -> None:
    ids = await _world(sessions)
    async with sessions() as s:
        fw = await forwarded(s, START, END)
        assert (fw.alerts, fw.updates, fw.digests, fw.digest_items, fw.total) == (1, 1, 1, 2, 4)
        assert await engaged_people(s, START, END) == {
            ids["ann"],
            ids["bob"],
            ids["cid"],
            ids["dan"],
        }
        # In December only the alert sent at the first instant of the month counts.
        assert await engaged_people(s, END, END + timedelta(days=30)) == {ids["ann"]}
        assert await question_refs(s, START, END) == {"ref-ann"}
        assert await identities(s) == [(ids["ann"], "telegram", "1")]
        found = await stakeholders(s, {ids["ann"], ids["cid"]})
        assert [(x.person_id, x.org_type, x.country) for x in found] == [
            (ids["ann"], "sme", "DE"),
            (ids["cid"], None, None),
        ]
        assert await stakeholders(s, set()) == []
        fn = await funnel(s, START, END)
        assert (fn.identified, fn.shortlisted, fn.applying) == (2, 1, 1)
        held = await meetings(s, START, END)
        # The window includes its first instant and excludes its end.
        assert [(m.opportunity_id, m.going) for m in held] == [
            (ids["at_start"], 0),
            (ids["in_window"], 2),
        ]
        qs = await question_stats(s, START, END)
        assert (qs.asked, qs.answered, qs.abstained, qs.thumbs_up, qs.thumbs_down) == (
            2,
            1,
            1,
            1,
            1,
        )
        (funding,) = await category_precision(s, START, END)
        assert (funding.category, funding.sent, funding.answered) == ("funding", 2, 2)
        assert (funding.relevant, funding.not_for_us, funding.applying) == (1, 1, 1)
        assert funding.precision == 0.5
        empty = await question_stats(s, END, END + timedelta(days=1))
        assert (empty.asked, empty.thumbs_up) == (0, 0)
        assert (await funnel(s, END, END + timedelta(days=1))).identified == 0


async def test_audit_entries_are_listed_oldest_first_from_a_day(sessions: SessionFactory) -> None:
    async with sessions.begin() as s:
        await audit(s, actor="cli", action="ingest", detail={"added": 1})
        s.add(AuditEntry(actor="person:1", action="erase", subject="person:1", at=BEFORE))
    async with sessions() as s:
        every = await audit_entries(s)
        assert [e.action for e in every] == ["erase", "ingest"]
        assert [e.action for e in await audit_entries(s, START)] == ["ingest"]


def test_the_audit_log_has_no_update_or_delete_in_our_code() -> None:
    root = Path(__file__).resolve().parents[2]
    for package in ("bot", "storage", "knowledge", "ingest"):
        for path in (root / package).rglob("*.py"):
            text = path.read_text()
            if "AuditEntry" not in text:
                continue
            for forbidden in ("update(AuditEntry", "delete(AuditEntry"):
                assert forbidden not in text, f"{path} changes the audit log"
