from ingest.loaders.eligibility import Eligibility, eligibility


def test_annex_b_reference_gives_nothing() -> None:
    text = (
        "2. Eligible Countries Eligible countries are described in Annex B of the Work "
        "Programme General Annexes. Coordinators of projects must be legal entities "
        "established in an EU Member State or Associated Country."
    )
    assert eligibility(text) == Eligibility()


def test_explicit_country_list() -> None:
    text = (
        "To be eligible for funding, applicants must be established in one of the following "
        "countries: The Member States of the European Union: Austria, Belgium, Czechia; "
        "Turkey, Côte d'Ivoire and South Africa.\n\nScientific project leader in Kenya."
    )
    assert eligibility(text).countries == (
        "Austria",
        "Belgium",
        "Czechia",
        "Türkiye",
        "Côte d’Ivoire",
        "South Africa",
    )


def test_single_sme_applicants() -> None:
    text = (
        "You must apply as one of the following eligible entities: a single company classified "
        "as a SME, and established within a Member State or an Associated Country."
    )
    assert eligibility(text) == Eligibility(
        countries=("EU Member States", "Associated Countries"), org_types=("SME",), sme_only=True
    )


def test_sme_or_small_midcap_is_not_sme_only() -> None:
    text = "Participation is limited to SMEs, including start-ups, and small mid-caps."
    assert eligibility(text) == Eligibility(
        org_types=("SME", "start-up", "small mid-cap"), sme_only=False
    )


def test_empty() -> None:
    assert eligibility("") == Eligibility()
