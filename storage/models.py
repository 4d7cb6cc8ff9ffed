"""ORM models: every fact the bot keeps. Tables are plural snake case, classes singular."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Now, as an aware UTC timestamp."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with JSON for dict and list columns."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        list[str]: JSON,
    }


class Source(Base):
    """A file, folder entry or URL that documents were ingested from."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    audience: Mapped[str] = mapped_column(String(16), default="public")
    format: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    documents: Mapped[list[Document]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )


class Document(Base):
    """One item of a source, with clean text split into chunks."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(512))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(16), default="public", index=True)
    kind: Mapped[str] = mapped_column(String(32), default="document")
    content_hash: Mapped[str] = mapped_column(String(64))
    chars: Mapped[int] = mapped_column(Integer, default=0)
    # A curated answer is not used after this day (it may be out of date); None: no expiry.
    expires_at: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    source: Mapped[Source] = relationship(back_populates="documents")
    chunks: Mapped[list[Chunk]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )


class Chunk(Base):
    """A passage of a document: the unit of retrieval and citation.

    The id is derived from the document and the chunk's content, so re-ingesting the same
    text yields the same ids and the vector store can be kept in step by id alone.
    """

    __tablename__ = "chunks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    section: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    # Boilerplate repeated across many items of a source (e.g. the general conditions of
    # every EU topic) is embedded without its document's title, and all copies share one
    # vector: identical vectors by the hundred would crowd dense results and degrade HNSW.
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    vector_id: Mapped[str] = mapped_column(String(64), index=True)

    document: Mapped[Document] = relationship(back_populates="chunks")


class Opportunity(Base):
    """A funding call, event, incubator or partnering offer, as structured fields."""

    __tablename__ = "opportunities"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_opportunities_external_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), unique=True
    )
    external_id: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(Text)
    programme: Mapped[str | None] = mapped_column(Text)
    type_of_action: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str | None] = mapped_column(String(64))
    opening_date: Mapped[date | None] = mapped_column(Date)
    deadlines: Mapped[list[str]] = mapped_column(JSON, default=list)
    two_stage: Mapped[bool] = mapped_column(Boolean, default=False)
    budget_total_eur: Mapped[int | None] = mapped_column(BigInteger)
    budget_min_eur: Mapped[int | None] = mapped_column(BigInteger)
    budget_max_eur: Mapped[int | None] = mapped_column(BigInteger)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    org_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    url: Mapped[str | None] = mapped_column(Text)
    sme_only: Mapped[bool | None] = mapped_column(Boolean)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    source: Mapped[Source] = relationship()


class OpportunityChange(Base):
    """What changed in an opportunity when its source was re-ingested."""

    __tablename__ = "opportunity_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(512))
    field: Mapped[str] = mapped_column(String(64))
    old: Mapped[Any] = mapped_column(JSON, nullable=True)
    new: Mapped[Any] = mapped_column(JSON, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Question(Base):
    """A question asked, what was answered, and from which sources."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    channel: Mapped[str] = mapped_column(String(32))
    user_ref: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    abstained: Mapped[bool] = mapped_column(Boolean)
    confidence: Mapped[float] = mapped_column(Float)
    citations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    asked_for: Mapped[date] = mapped_column(Date)
    # Set once staff answered it from the unanswered-questions queue.
    staff_answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(128))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Meta(Base):
    """Small key-value facts about the store itself (e.g. the embedding model in use)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Organisation(Base):
    """A company or institute, with the profile alerts and ``/calls`` are matched against."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # A member organisation's people may see documents ingested for members; staff decide.
    is_member: Mapped[bool] = mapped_column(Boolean, default=False)
    # Shared by the organisation's people to link another account (e.g. Slack and Telegram).
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))
    org_type: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    therapeutic_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    technologies: Mapped[list[str]] = mapped_column(JSON, default=list)
    stage: Mapped[str | None] = mapped_column(String(32))
    trl: Mapped[int | None] = mapped_column(Integer)
    looking_for: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The cluster's thematic networks the organisation takes part in (set by staff or in
    # the profile), and its membership tier (e.g. "full", "associate"); both segment
    # broadcasts.
    networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    membership_tier: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Person(Base):
    """Someone who talks to the bot, on one or more channels."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")
    display_name: Mapped[str | None] = mapped_column(Text)
    # /stop: no proactive message of any kind until the person turns alerts back on.
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_frequency: Mapped[str] = mapped_column(String(16), default="instant")
    # The platform refused to deliver (blocked the bot, left the workspace): send nothing more.
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # For quiet hours and digest times; None: the cluster's timezone.
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    identities: Mapped[list[Identity]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )
    organisation: Mapped[Organisation | None] = relationship()


class Identity(Base):
    """A person's account on one channel, and the private chat to reach them in."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    person: Mapped[Person] = relationship(back_populates="identities")


class Subscription(Base):
    """Consent to one category of proactive message; withdrawn by /stop or /alerts."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("person_id", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConversationState(Base):
    """Where a person is in a multi-step flow (onboarding, editing the profile).

    Kept in the database so a restart loses no conversation.
    """

    __tablename__ = "conversation_states"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProcessedEvent(Base):
    """A platform delivery id already handled, so a redelivered update is answered once."""

    __tablename__ = "processed_events"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class Feedback(Base):
    """A thumbs up or down on an answer."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("person_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Handoff(Base):
    """A question passed to a person at the cluster, with its context."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL")
    )
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Rsvp(Base):
    """A person's answer to a network meeting invitation."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("person_id", "opportunity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="going")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Who did what to whom: erasures, exports, role changes, later broadcasts."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Alert(Base):
    """An opportunity matched to a person, with why, and what they said about it."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("person_id", "opportunity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # planned -> sent (instant) or digest (waiting for the person's digest) -> sent
    status: Mapped[str] = mapped_column(String(16), default="planned", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # relevant, not_for_us, already_knew
    feedback: Mapped[str | None] = mapped_column(String(16))
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    saved: Mapped[bool] = mapped_column(Boolean, default=False)
    applying: Mapped[bool] = mapped_column(Boolean, default=False)


class Delivery(Base):
    """The outbox: one proactive message to one person, sent by the delivery worker.

    Rows are planned in the same transaction as what caused them, unique per recipient, item
    and kind of message, so planning twice sends once. A worker claims a due row by setting
    a lease; a lease that runs out (the worker died) makes the row claimable again, which is
    how a crash loses nothing.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("person_id", "item_key", "kind"),
        Index("ix_deliveries_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    # alert, update, digest, reminder, broadcast, notice
    kind: Mapped[str] = mapped_column(String(16))
    item_key: Mapped[str] = mapped_column(String(128))
    # The consent category checked again at send time; None for messages the person asked for.
    category: Mapped[str | None] = mapped_column(String(32))
    # What the message is about, when it is an opportunity: a closed one is never sent.
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # pending, sending, sent, failed, cancelled, skipped
    status: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(128))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Broadcast(Base):
    """An announcement by staff to a segment of members, sent through the outbox.

    draft -> (awaiting_approval ->) queued -> done, or cancelled at any point before done.
    Its messages are outbox rows of kind ``broadcast`` with item key ``broadcast:<id>``;
    the live figures are counted from them.
    """

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Who wrote it: a person (chat) or an operator (``cli:<user>``); kept if the person goes.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    # Link buttons under the message: [{"label": ..., "url": ...}] (presses are counted).
    buttons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Field -> accepted values; fields combine with AND, values within a field with OR.
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # draft, awaiting_approval, queued, done, cancelled
    status: Mapped[str] = mapped_column(String(24), default="draft", index=True)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by: Mapped[str | None] = mapped_column(String(128))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When to send; None: as soon as it is confirmed (and approved).
    send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_by: Mapped[str | None] = mapped_column(String(128))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BroadcastPress(Base):
    """A recipient pressed one of a broadcast's buttons (counted once per person and button)."""

    __tablename__ = "broadcast_presses"
    __table_args__ = (UniqueConstraint("broadcast_id", "person_id", "button"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    button: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Asset(Base):
    """An innovation asset from the cluster's portfolio, as a CRM export lists it.

    A technology, company, expertise or facility that partner scouting can propose.

    Contact details stay here and are shown to a requester only after both sides accepted
    an introduction.
    """

    __tablename__ = "innovation_assets"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The file it was imported from (its name), and its id there.
    source: Mapped[str] = mapped_column(String(512))
    external_id: Mapped[str] = mapped_column(String(512))
    name: Mapped[str] = mapped_column(Text)
    # technology, company, expertise, facility, ...
    kind: Mapped[str] = mapped_column(String(32), default="technology")
    owner_name: Mapped[str | None] = mapped_column(Text)
    # When the owner is an organisation the bot knows, its people accept introductions.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    # The owner's kind of organisation (sme, research, hospital, ...): the partner type.
    partner_type: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    technologies: Mapped[list[str]] = mapped_column(JSON, default=list)
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    therapeutic_areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(Text)
    trl: Mapped[int | None] = mapped_column(Integer)
    # {"name": ..., "email": ..., "phone": ...}: never shown before both sides accept.
    contact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    url: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScoutingRequest(Base):
    """What an SME seeks (technology, partner type, region), handled by cluster staff."""

    __tablename__ = "scouting_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    technology: Mapped[str] = mapped_column(Text)
    partner_type: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    # open, closed
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    handled_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScoutingCandidate(Base):
    """An asset or opportunity found for a scouting request, and how far it got.

    Funnel stages: identified -> shortlisted -> introduced -> contract (or declined). An
    introduction shares contact details once the requester and the counterpart accepted.
    """

    __tablename__ = "scouting_candidates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("scouting_requests.id", ondelete="CASCADE"), index=True
    )
    asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("innovation_assets.id", ondelete="CASCADE"), index=True
    )
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # identified, shortlisted, introduced, contract, declined
    stage: Mapped[str] = mapped_column(String(16), default="identified", index=True)
    requester_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    counterpart_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    shortlisted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    introduced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contract_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SendLimit(Base):
    """A sending budget shared by every delivery worker: one row per channel and per chat.

    The channel's row (``chat_id`` empty) holds when its next message may go and until when
    the platform asked it to pause (a 429); a chat's row holds when that chat may take its
    next message. Times are seconds since the epoch, so workers on one clock agree.
    """

    __tablename__ = "send_limits"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    free_at: Mapped[float] = mapped_column(Float, default=0.0)
    paused_until: Mapped[float] = mapped_column(Float, default=0.0)


__all__ = [
    "Alert",
    "Asset",
    "AuditEntry",
    "Base",
    "Broadcast",
    "BroadcastPress",
    "Chunk",
    "ConversationState",
    "Delivery",
    "Document",
    "Feedback",
    "Handoff",
    "Identity",
    "Meta",
    "Opportunity",
    "OpportunityChange",
    "Organisation",
    "Person",
    "ProcessedEvent",
    "Question",
    "Rsvp",
    "ScoutingCandidate",
    "ScoutingRequest",
    "SendLimit",
    "Source",
    "Subscription",
    "utcnow",
]
