import json

from ingest.loaders.sedia_budget import TopicBudget, topic_budget


def _overview(blocks: dict[str, list[dict[str, object]]]) -> str:
    return json.dumps({"budgetTopicActionMap": blocks})


def test_sums_years_of_the_block_naming_the_topic() -> None:
    overview = _overview(
        {
            "1": [{"action": "T-01 - RIA", "budgetYearMap": {"2026": "1000", "2027": 500},
                   "minContribution": 100, "maxContribution": 300, "expectedGrants": 5}],
            "2": [{"action": "T-02 - RIA", "budgetYearMap": {"2026": "9999"}}],
        }
    )  # fmt: skip
    assert topic_budget(overview, "T-01") == TopicBudget(
        total_eur=1500, min_eur=100, max_eur=300, expected_grants=5, blocks=("1",)
    )


def test_block_naming_several_topics_is_shared_not_double_counted() -> None:
    overview = _overview(
        {
            "7": [{"action": "T-01, T-02 - CSA", "budgetYearMap": {"2026": "2000"}}],
            "8": [
                {"action": "T-03 - EIC", "budgetYearMap": {"2026": "600"}},
                {"action": "T-03 - EIC", "budgetYearMap": {"2026": "600"}},
                {"action": "T-04 - EIC", "budgetYearMap": {"2026": "600"}},
            ],
        }
    )
    first = topic_budget(overview, "T-01")
    assert (first.total_eur, first.shared_with) == (2000, ("T-02",))
    third = topic_budget(overview, "T-03")
    assert (third.total_eur, third.shared_with, third.blocks) == (600, ("T-04",), ("8",))


def test_topic_in_several_blocks_adds_them() -> None:
    overview = _overview(
        {
            "1": [{"action": "T-01 - RIA", "budgetYearMap": {"2026": "100"}}],
            "2": [{"action": "T-01 - IA", "budgetYearMap": {"2027": "50"}}],
        }
    )
    assert topic_budget(overview, "T-01").total_eur == 150


def test_identifier_prefix_does_not_match() -> None:
    overview = _overview({"1": [{"action": "T-01-two-stage - RIA", "budgetYearMap": {"y": 5}}]})
    assert topic_budget(overview, "T-01") == TopicBudget()


def test_zero_and_garbage_are_unknown() -> None:
    zero = _overview({"1": [{"action": "T-01 - X", "budgetYearMap": {"2026": "0"},
                             "minContribution": 0, "maxContribution": 0}]})  # fmt: skip
    assert topic_budget(zero, "T-01").total_eur is None
    assert topic_budget(zero, "T-01").max_eur is None
    assert topic_budget("not json", "T-01") == TopicBudget()
    assert topic_budget(None, "T-01") == TopicBudget()
    assert topic_budget("[1, 2]", "T-01") == TopicBudget()
