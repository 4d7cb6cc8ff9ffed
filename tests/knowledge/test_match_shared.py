"""Matching on real EU topics: our judged profiles (tests/data/profiles) against ../shared/data.

Each profile file names the topics that fit the company and look-alikes that only seem to
(same words, other subject), with the reason read in the topic text. The store holds the
Health and EIC topic records and a sample of the full snapshot of open topics (every judged
one included, the Health ones a second time from that other source), built once for this
module. bench/match.py runs the same judgements on the whole of ../shared.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from knowledge.match import Match, Matcher
from knowledge.profile import Profile
from tests.conftest import SHARED
from tests.factories import make_app

PROFILES = Path(__file__).resolve().parents[1] / "data" / "profiles"
MIN_SCORE = 0.3  # Settings.alerts.min_score
FILES = [
    "data/eu-ft-sedia-topics/horizon_hlth_2026_2027_topics.sedia.json",
    "data/eu-ft-sedia-topics/horizon_eic_eie_2026_topics.sedia.json",
]
ALL_TOPICS = "data/eu-ft-calls-cordisdata/open_calls_2026-08-10.jsonl.gz"


def _judged() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(PROFILES.glob("*.json")):
        data = json.loads(path.read_text())
        data["file"] = path.stem
        cases.append(data)
    return cases


CASES = _judged()


def _all_topics() -> list[dict[str, Any]]:
    text = gzip.decompress((SHARED / ALL_TOPICS).read_bytes()).decode("utf-8-sig")
    decoder, records, at = json.JSONDecoder(), [], 0
    while at < len(text):
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        record, at = decoder.raw_decode(text, at)
        records.append(record)
    return records


def _sample(target: Path) -> Path:
    """Every judged topic of the full snapshot and every eighth other one."""
    wanted = {
        i for case in CASES for g in ("relevant", "lookalike", "excluded") for i in case.get(g, {})
    }
    records = [r for n, r in enumerate(_all_topics()) if r.get("topicId") in wanted or n % 8 == 0]
    path = target / "open_calls_sample.json"
    path.write_text(json.dumps({"records": records}))
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    data_dir = tmp_path_factory.mktemp("match-store")
    sample = _sample(tmp_path_factory.mktemp("match-data"))

    async def build() -> None:
        app = await make_app(data_dir)
        try:
            summary = await app.ingester.ingest([*(str(SHARED / f) for f in FILES), str(sample)])
            assert summary.failed == 0, summary.errors
        finally:
            await app.close()

    asyncio.run(build())
    return data_dir


async def _match_all(data_dir: Path) -> dict[str, list[Match]]:
    app = await make_app(data_dir)
    try:
        matcher = Matcher(sessions=app.sessions, index=app.index)
        found = {}
        for day in sorted({c["today"] for c in CASES}):
            cases = [c for c in CASES if c["today"] == day]
            results = await matcher.match_many(
                [Profile.from_json(c["profile"]) for c in cases],
                today=date.fromisoformat(day),
                limit=None,
            )
            found.update({c["file"]: r for c, r in zip(cases, results, strict=True)})
        return found
    finally:
        await app.close()


@pytest.fixture(scope="module")
def results(store: Path) -> dict[str, list[Match]]:
    return asyncio.run(_match_all(store))


def _ids(matches: list[Match]) -> list[str]:
    return [m.opportunity.external_id for m in matches]


def test_there_are_enough_judged_profiles_in_several_countries() -> None:
    assert len(CASES) >= 10
    assert len({Profile.from_json(c["profile"]).country for c in CASES}) >= 8
    assert len({c["today"] for c in CASES}) == 2
    for case in CASES:
        assert case["relevant"], case["file"]
        assert case["lookalike"], case["file"]
        assert all(len(why) > 20 for g in ("relevant", "lookalike") for why in case[g].values())


def test_relevant_topics_are_in_the_top_ten(results: dict[str, list[Match]]) -> None:
    wanted = found = 0
    missed = []
    for case in CASES:
        top = _ids(results[case["file"]][:10])
        for topic in case["relevant"]:
            wanted += 1
            if topic in top:
                found += 1
            else:
                missed.append(f"{case['file']}: {topic}")
    assert found / wanted >= 0.9, missed
    # Every profile's first relevant topic is its best match.
    for case in CASES:
        assert _ids(results[case["file"]])[0] in case["relevant"], case["file"]


def test_look_alikes_stay_below_the_relevant_topics(results: dict[str, list[Match]]) -> None:
    for case in CASES:
        matches = results[case["file"]]
        scores = {m.opportunity.external_id: m.score for m in matches}
        best_relevant = max(scores.get(t, 0.0) for t in case["relevant"])
        for topic in case["lookalike"]:
            assert scores.get(topic, 0.0) < best_relevant, (case["file"], topic)


def test_few_look_alikes_would_be_sent(results: dict[str, list[Match]]) -> None:
    sent = total = 0
    for case in CASES:
        top = results[case["file"]][:10]
        alerted = {m.opportunity.external_id for m in top if m.score >= MIN_SCORE}
        total += len(case["lookalike"])
        sent += len(alerted & set(case["lookalike"]))
    assert sent / total <= 0.35


def test_relevant_topics_score_as_instant_alerts(results: dict[str, list[Match]]) -> None:
    for case in CASES:
        scores = {m.opportunity.external_id: m.score for m in results[case["file"]]}
        assert max(scores.get(t, 0.0) for t in case["relevant"]) >= 0.6, case["file"]


def test_never_a_closed_call_and_hard_filters_hold(results: dict[str, list[Match]]) -> None:
    for case in CASES:
        day = date.fromisoformat(case["today"])
        for match in results[case["file"]]:
            assert match.status_today in ("open", "forthcoming")
            assert match.deadlines
            assert max(match.deadlines) >= day
        ids = _ids(results[case["file"]])
        for topic in case.get("excluded", {}):
            assert topic not in ids, (case["file"], topic)
        assert len(ids) == len(set(ids))  # one match per topic, whichever sources list it


def test_every_reason_about_the_call_cites_its_text(results: dict[str, list[Match]]) -> None:
    for case in CASES:
        for match in results[case["file"]][:3]:
            texts = [r.text for r in match.reasons]
            assert any(t.startswith("deadline ") for t in texts), texts
            for reason in match.reasons:
                if reason.text.split(":")[0] in ("therapeutic area", "technology", "sector"):
                    assert reason.passage, (case["file"], reason)
                    assert reason.chunk_id, (case["file"], reason)


def test_reasons_name_what_fits(results: dict[str, list[Match]]) -> None:
    (first, *_) = results["flavigen"]
    texts = [r.text for r in first.reasons]
    assert first.opportunity.external_id == "HORIZON-HLTH-2027-01-DISEASE-06"
    assert "therapeutic area: flaviviruses" in texts
    assert "technology: monoclonal antibodies" in texts
    assert "deadline 2027-04-13, 136 days left" in texts
    cited = next(r for r in first.reasons if r.text == "therapeutic area: flaviviruses")
    assert "flavivirus" in (cited.passage or "").lower()
