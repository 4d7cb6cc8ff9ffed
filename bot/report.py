"""The impact report staff send to funders, and the audit log they answer to.

The report holds the figures the cluster services of the CELIS best-practice brochure report
(opportunities forwarded, companies engaged, scouting funnel, meetings and attendance), counted
only from the bot's own records in a window of days. It renders as Markdown, CSV or a PNG chart.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bot.report_png import bar_chart
from ingest.pipeline import IngestSummary
from knowledge.answer import user_reference
from knowledge.profile import ORG_TYPES
from storage.alerts import CategoryStats
from storage.engine import SessionFactory
from storage.models import AuditEntry
from storage.people import audit
from storage.report import (
    Forwarded,
    Funnel,
    Meeting,
    QuestionStats,
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
from storage.scouting import ScoutingFunnel, scouting_funnel

SME_TYPES = frozenset({"sme", "start-up"})
RESEARCH_TYPES = frozenset({"research", "university"})
CONTRACTS_NOTE = (
    "The scouting funnel counts candidates of partner-scouting requests by the day they "
    "reached each stage (identified, shortlisted, introduced, contract). The alert funnel "
    "counts alerts matched to members; applications are the alerts marked “I'm applying”."
)
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Figure:
    """One number of the report, under its section."""

    section: str
    figure: str
    value: int | float | str


@dataclass(frozen=True)
class ImpactReport:
    """Every figure of one window, from ``start`` to ``end`` inclusive."""

    start: date
    end: date
    forwarded: Forwarded
    organisations_by_type: dict[str, int]
    organisations_by_country: dict[str, int]
    # The cluster's thematic networks the engaged organisations take part in.
    organisations_by_network: dict[str, int]
    people: int
    funnel: Funnel
    meetings: list[Meeting]
    questions: QuestionStats
    precision: list[CategoryStats]
    scouting: ScoutingFunnel = field(default_factory=lambda: ScoutingFunnel(0, 0, 0, 0, 0))
    notes: list[str] = field(default_factory=lambda: [CONTRACTS_NOTE])

    @property
    def organisations(self) -> int:
        """Distinct organisations engaged."""
        return sum(self.organisations_by_type.values())

    def engaged(self, types: frozenset[str] | None) -> int:
        """Organisations engaged of these types (None: those of no SME or research type)."""
        if types is None:
            known = SME_TYPES | RESEARCH_TYPES
            return sum(n for t, n in self.organisations_by_type.items() if t not in known)
        return sum(n for t, n in self.organisations_by_type.items() if t in types)

    def figures(self) -> list[Figure]:
        """Every figure in report order: what the CSV holds, row for row."""
        fw, fn, sc, q = self.forwarded, self.funnel, self.scouting, self.questions
        rows = [
            Figure("forwarded", "opportunities forwarded", fw.total),
            Figure("forwarded", "single alerts sent", fw.alerts),
            Figure("forwarded", "updates sent", fw.updates),
            Figure("forwarded", "digests sent", fw.digests),
            Figure("forwarded", "digest items", fw.digest_items),
            Figure("engagement", "organisations engaged", self.organisations),
            Figure("engagement", "SMEs and start-ups", self.engaged(SME_TYPES)),
            Figure("engagement", "research institutions", self.engaged(RESEARCH_TYPES)),
            Figure("engagement", "other organisations", self.engaged(None)),
            Figure("engagement", "people engaged", self.people),
            Figure("funnel", "scouting requests", sc.requests),
            Figure("funnel", "opportunities identified", sc.identified),
            Figure("funnel", "opportunities shortlisted", sc.shortlisted),
            Figure("funnel", "introductions", sc.introduced),
            Figure("funnel", "contracts", sc.contracts),
            Figure("alert funnel", "alerts matched", fn.identified),
            Figure("alert funnel", "alerts saved or applying", fn.shortlisted),
            Figure("alert funnel", "applications", fn.applying),
        ]
        rows += [
            Figure("networks", f"organisations: {ORG_TYPES.get(t, t)}", n)
            for t, n in sorted(self.organisations_by_type.items())
        ]
        rows += [
            Figure("networks", f"organisations in {c}", n)
            for c, n in sorted(self.organisations_by_country.items())
        ]
        rows.append(Figure("networks", "networks involved", len(self.organisations_by_network)))
        rows += [
            Figure("networks", f"organisations in the {name} network", n)
            for name, n in sorted(self.organisations_by_network.items())
        ]
        rows += [
            Figure("meetings", "meetings held", len(self.meetings)),
            Figure("meetings", "attendance (RSVPs going)", sum(m.going for m in self.meetings)),
        ]
        rows += [
            Figure("meetings", f"{m.starts_at.date().isoformat()} {m.title}", m.going)
            for m in self.meetings
        ]
        rows += [
            Figure("questions", "questions asked", q.asked),
            Figure("questions", "answered", q.answered),
            Figure("questions", "unanswered (abstained)", q.abstained),
            Figure("questions", "thumbs up", q.thumbs_up),
            Figure("questions", "thumbs down", q.thumbs_down),
        ]
        for cat in self.precision:
            precision = "n/a" if cat.precision is None else round(cat.precision, 3)
            rows += [
                Figure("alert precision", f"{cat.category}: alerts sent", cat.sent),
                Figure("alert precision", f"{cat.category}: judged", cat.answered),
                Figure("alert precision", f"{cat.category}: precision", precision),
            ]
        return rows

    def main_figures(self) -> list[tuple[str, int]]:
        """The headline numbers the chart shows."""
        return [
            ("Forwarded", self.forwarded.total),
            ("Identified", self.scouting.identified),
            ("Shortlisted", self.scouting.shortlisted),
            ("Introduced", self.scouting.introduced),
            ("Contracts", self.scouting.contracts),
            ("Applications", self.funnel.applying),
            ("Organisations", self.organisations),
            ("SMEs", self.engaged(SME_TYPES)),
            ("Research", self.engaged(RESEARCH_TYPES)),
            ("People", self.people),
            ("Meetings", len(self.meetings)),
            ("Attendance", sum(m.going for m in self.meetings)),
            ("Answered", self.questions.answered),
            ("Unanswered", self.questions.abstained),
        ]


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(), tzinfo=UTC)


def window(start: date, end: date) -> tuple[datetime, datetime]:
    """The half-open UTC interval covering the days ``start`` to ``end`` inclusive.

    Raises:
        ValueError: ``start`` is after ``end``.
    """
    if start > end:
        raise ValueError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    return day_start(start), day_start(end + timedelta(days=1))


async def build_report(sessions: SessionFactory, start: date, end: date) -> ImpactReport:
    """Count every figure for the days ``start`` to ``end`` inclusive (UTC days).

    Raises:
        ValueError: ``start`` is after ``end``.
    """
    since, until = window(start, end)
    async with sessions() as session:
        people = await engaged_people(session, since, until)
        refs = await question_refs(session, since, until)
        if refs:
            people |= {
                person
                for person, channel, external in await identities(session)
                if user_reference(channel, external) in refs
            }
        found = await stakeholders(session, people)
        orgs = {s.organisation_id: s for s in found if s.organisation_id is not None}
        return ImpactReport(
            start=start,
            end=end,
            forwarded=await forwarded(session, since, until),
            organisations_by_type=dict(Counter(s.org_type or UNKNOWN for s in orgs.values())),
            organisations_by_country=dict(Counter(s.country or UNKNOWN for s in orgs.values())),
            organisations_by_network=dict(
                Counter(network for s in orgs.values() for network in set(s.networks))
            ),
            people=len(found),
            funnel=await funnel(session, since, until),
            scouting=await scouting_funnel(session, since, until),
            meetings=await meetings(session, since, until),
            questions=await question_stats(session, since, until),
            precision=await category_precision(session, since, until),
        )


SECTION_TITLES = {
    "forwarded": "Opportunities forwarded",
    "engagement": "Companies engaged",
    "funnel": "Scouting funnel: identified, shortlisted, introduced, contracts",
    "alert funnel": "Alert funnel: matched, saved, applied for",
    "networks": "Networks and stakeholders involved",
    "meetings": "Meetings held",
    "questions": "Questions",
    "alert precision": "Precision of alert feedback",
}


def _cell(value: object) -> str:
    text = f"{value:.0%}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: ImpactReport) -> str:
    """The report as Markdown: one table per section, the notes at the end."""
    lines = [f"# Impact report, {report.start.isoformat()} to {report.end.isoformat()}", ""]
    lines.append("Counted from the bot's own records in this window (UTC days, inclusive).")
    by_section: dict[str, list[Figure]] = {}
    for fig in report.figures():
        by_section.setdefault(fig.section, []).append(fig)
    for section, title in SECTION_TITLES.items():
        lines += ["", f"## {title}", ""]
        rows = by_section.get(section)
        if not rows:
            lines.append("None in this window.")
            continue
        lines += ["| Figure | Value |", "| --- | ---: |"]
        lines += [f"| {_cell(f.figure)} | {_cell(f.value)} |" for f in rows]
    lines += ["", "## Notes", ""]
    lines += [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def render_csv(report: ImpactReport) -> str:
    """The report as CSV: a header, then one ``section,figure,value`` row per figure."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "figure", "value"])
    for fig in report.figures():
        writer.writerow([fig.section, fig.figure, fig.value])
    return out.getvalue()


def render_png(report: ImpactReport) -> bytes:
    """The headline figures as a PNG bar chart."""
    title = f"Impact {report.start.isoformat()} to {report.end.isoformat()}"
    return bar_chart(title, report.main_figures())


def safe_target(target: str) -> str:
    """A target as the audit log keeps it: a URL loses credentials, query and fragment.

    Feed URLs often carry an access key in the query; the log must not hold secrets.
    """
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https"):
        return target
    try:
        port = parts.port
    except ValueError:  # a malformed port: keep no more than the scheme
        port = None
    host = (parts.hostname or "") + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


async def audit_ingest(
    sessions: SessionFactory,
    *,
    actor: str,
    targets: Sequence[str],
    audience: str,
    summary: IngestSummary,
) -> None:
    """Append one ingest run to the audit log: who, which targets, and what it changed."""
    detail: dict[str, Any] = {
        "targets": [safe_target(t) for t in targets],
        "audience": audience,
        "files": summary.files,
        "added": summary.added,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "removed": summary.removed,
        "failed": summary.failed,
    }
    async with sessions.begin() as session:
        await audit(session, actor=actor, action="ingest", subject=None, detail=detail)


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    """One audit entry as JSON-ready data."""
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    return {
        "id": entry.id,
        "at": at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
    }


def audit_line(entry: AuditEntry) -> str:
    """One audit entry on one line, for people."""
    record = audit_json(entry)
    detail = " ".join(f"{k}={v}" for k, v in sorted(entry.detail.items()))
    subject = record["subject"] or "-"
    return f"{record['at'][:19]}  {entry.actor:<12} {entry.action:<16} {subject:<16} {detail}"


__all__ = [
    "CONTRACTS_NOTE",
    "Figure",
    "ImpactReport",
    "audit_ingest",
    "audit_json",
    "audit_line",
    "build_report",
    "day_start",
    "render_csv",
    "render_markdown",
    "render_png",
    "safe_target",
    "window",
]
