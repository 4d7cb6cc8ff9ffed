"""Importing a CRM export into the asset portfolio: tolerant columns, strict rows, idempotent."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.cli_scouting import DEMO_PORTFOLIO
from ingest.assets import import_assets, parse_assets
from ingest.errors import CorruptInput, EmptyInput, InvalidRecords, UnsupportedFormat
from storage import SessionFactory
from storage.models import Asset, AuditEntry, Organisation

CSV = (
    "Asset ID;Title;Company;Partner type;Keywords;Country;TRL;Contact person;E-mail\n"
    "A1;Liver chip;Uni Korvenstad;University;organ-on-chip, microfluidics;Germany;4;"
    "Dr. Mira;mira@uni.example\n"
    "A2;Vector plant;Vektorwerk GmbH;CDMO;AAV, lentivirus;de;TRL 8;;\n"
)


def test_columns_are_mapped_by_their_usual_names() -> None:
    parsed = parse_assets("crm.csv", CSV.encode())
    assert parsed.errors == ()
    first, second = parsed.records
    assert first.external_id == "A1"
    assert first.fields["name"] == "Liver chip"
    assert first.fields["owner_name"] == "Uni Korvenstad"
    assert first.fields["partner_type"] == "university"
    assert first.fields["technologies"] == ["organ-on-chip", "microfluidics"]
    assert first.fields["country"] == "DE"
    assert first.fields["trl"] == 4
    assert first.fields["contact"] == {"name": "Dr. Mira", "email": "mira@uni.example"}
    assert second.fields["technologies"] == ["AAV", "lentivirus"]
    assert second.fields["partner_type"] == "cdmo"
    assert second.fields["country"] == "DE"
    assert second.fields["trl"] == 8
    assert second.fields["contact"] == {}


def test_a_json_list_with_a_nested_contact_is_read() -> None:
    data = json.dumps(
        {
            "assets": [
                {
                    "id": 7,
                    "name": "Proteomics core",
                    "organisation": "CPC",
                    "type": "research institute",
                    "technologies": ["proteomics", "mass spectrometry"],
                    "country": "Denmark",
                    "contact": {"name": "Mette", "email": "m@cpc.example", "phone": "+45 1"},
                }
            ]
        }
    ).encode()
    (record,) = parse_assets("export.json", data).records
    assert record.external_id == "7"
    assert record.fields["partner_type"] == "research"
    assert record.fields["technologies"] == ["proteomics", "mass spectrometry"]
    assert record.fields["contact"] == {
        "name": "Mette",
        "email": "m@cpc.example",
        "phone": "+45 1",
    }


def test_bad_rows_are_named_by_row_and_column() -> None:
    data = (
        b"id,name,country,trl,email,url\n"
        b"1,Good,Germany,5,a@b.example,https://x.example\n"
        b"2,,Germany,5,,\n"
        b"3,Bad country,Atlantis,5,,\n"
        b"4,Bad TRL,DE,12,,\n"
        b"5,Bad mail,DE,,not-a-mail,\n"
        b"6,Bad link,DE,,,ftp://x\n"
        b"1,Duplicate,DE,,,\n"
    )
    parsed = parse_assets("crm.csv", data)
    assert [r.external_id for r in parsed.records] == ["1"]
    lines = [e.line() for e in parsed.errors]
    assert lines == [
        "row 3, column name: the asset has no name",
        "row 4, column country: 'Atlantis' is not a country I know (use a name or a code)",
        "row 5, column trl: '12' is not a TRL from 1 to 9",
        "row 6, column email: 'not-a-mail' is not an e-mail address",
        "row 7, column url: the link does not start with http:// or https://",
        "row 8, column id: the same id as row 2",
    ]


@pytest.mark.parametrize(
    ("name", "data", "error", "message"),
    [
        ("a.csv", b"", EmptyInput, "the file is empty"),
        ("a.csv", b"id,name\n", EmptyInput, "the export has no rows"),
        ("a.xlsx", b"x", UnsupportedFormat, "import a .csv or .json export"),
        ("a.json", b"{not json", CorruptInput, "not valid JSON"),
        ("a.json", b'{"a": 1}', InvalidRecords, "no list of assets"),
        ("a.csv", b"id,owner\n1,x\n", InvalidRecords, "no column holds the assets' names"),
    ],
)
def test_files_that_cannot_be_read_say_why(
    name: str, data: bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        parse_assets(name, data)


async def _count(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Asset)) or 0)


async def test_reimport_is_idempotent_and_a_change_updates_one_row(
    sessions: SessionFactory,
) -> None:
    first = await import_assets(sessions, name="crm.csv", data=CSV.encode())
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    again = await import_assets(sessions, name="crm.csv", data=CSV.encode())
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    changed = await import_assets(
        sessions, name="crm.csv", data=CSV.replace("Liver chip", "Liver chip v2").encode()
    )
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 1)
    assert await _count(sessions) == 2
    async with sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions == ["assets.import"] * 3


async def test_one_bad_row_writes_nothing_unless_skipping_is_asked(
    sessions: SessionFactory,
) -> None:
    data = (CSV + "A3;Third;X;SME;;Atlantis;;;\n").encode()
    summary = await import_assets(sessions, name="crm.csv", data=data)
    assert [e.row for e in summary.errors] == [4]
    assert "nothing imported" in summary.line()
    assert await _count(sessions) == 0
    skipped = await import_assets(sessions, name="crm.csv", data=data, skip_invalid=True)
    assert (skipped.added, skipped.skipped) == (2, 1)
    assert await _count(sessions) == 2


async def test_an_asset_is_linked_to_the_organisation_of_the_same_name(
    sessions: SessionFactory,
) -> None:
    async with sessions.begin() as session:
        session.add(Organisation(name="vektorwerk gmbh", join_code="VVVV-WWWW"))
    await import_assets(sessions, name="crm.csv", data=CSV.encode(), source="crm")
    async with sessions() as session:
        linked = {a.name: a.organisation_id for a in await session.scalars(select(Asset))}
        sources = set(await session.scalars(select(Asset.source)))
    assert linked["Vector plant"] is not None
    assert linked["Liver chip"] is None
    assert sources == {"crm"}


def test_the_demo_portfolio_is_clean_and_fictional() -> None:
    parsed = parse_assets(DEMO_PORTFOLIO.name, DEMO_PORTFOLIO.read_bytes())
    assert parsed.errors == ()
    assert len(parsed.records) == 15
    for record in parsed.records:
        assert record.fields["contact"]["email"].endswith(".example")
        assert record.fields["url"].startswith("https://")
