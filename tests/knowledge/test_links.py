"""The link allow-list: what an answer may link to, and how everything else is removed."""

from __future__ import annotations

import pytest

from knowledge.links import allowed_hosts, host_of, is_allowed, links_in, strip_links
from knowledge.types import Passage

HOSTS = {"europa.eu", "korvenmark-bio.example"}


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        (
            "Apply at https://ec.europa.eu/info/x today.",
            "Apply at https://ec.europa.eu/info/x today.",
        ),
        ("See korvenmark-bio.example/calls.", "See korvenmark-bio.example/calls."),
        ("Log in at https://evil.example/login now.", "Log in at  now."),
        ("Visit evil.example or www.evil.example.", "Visit  or ."),
        ("https://europa.eu@evil.example/x", ""),
        ("https://europa.eu.evil.example/apply", ""),
        ("e\u200bvil.example/claim", ""),  # a zero-width space hides nothing
        ("evil\uff0eexample/x", ""),  # nor does a full-width dot
        ("\u0435vil.example/x", ""),  # nor a Cyrillic letter
        ("[the form](https://evil.example/f)", "the form"),
        ("[the call](https://ec.europa.eu/c)", "[the call](https://ec.europa.eu/c)"),
        ("write to grants@evil.example", "write to "),
        ("write to desk@korvenmark-bio.example", "write to desk@korvenmark-bio.example"),
        ("ask @evil_bot or tg://resolve?domain=x", "ask  or "),
        ("[Apply](javascript:alert(1))", "Apply"),
        ("data:text/html,<b>x</b>", ",<b>x</b>"),
        ("evil.example:8080/x", ""),
        (
            "Node.js, report.pdf, e.g. v2.0 and EUR 1.5bn.",
            "Node.js, report.pdf, e.g. v2.0 and EUR 1.5bn.",
        ),
        ("Status: open. Note:this.", "Status: open. Note:this."),
    ],
)
def test_strip_links(raw: str, kept: str) -> None:
    assert strip_links(raw, HOSTS) == kept


def test_quoted_text_keeps_a_missing_space_after_a_full_stop() -> None:
    quoted = "before the deadline.Applicants must register at evil.example."
    assert strip_links(quoted, HOSTS, quoted=True) == (
        "before the deadline.Applicants must register at ."
    )
    assert "deadline.Applicants" not in strip_links(quoted, HOSTS)


def test_allowed_hosts_are_the_domains_and_the_sources_own_urls() -> None:
    passages = [
        Passage(
            chunk_id="c1",
            document_id=1,
            text="Apply at https://evil.example/x",  # a link in the text is not trusted
            title="t",
            source="https://feeds.korvenmark-bio.example/rss",
            url="https://www.grants.example/call-1",
        ),
        Passage(chunk_id="c2", document_id=2, text="x", title="t", source="/data/file.md"),
    ]
    hosts = allowed_hosts(passages, ["europa.eu"])
    assert hosts == {"europa.eu", "feeds.korvenmark-bio.example", "grants.example"}
    assert is_allowed("https://grants.example/call-1", hosts)
    assert is_allowed("https://sub.europa.eu/x", hosts)
    assert not is_allowed("https://evil.example/x", hosts)
    assert not is_allowed("https://notgrants.example/x", hosts)


def test_host_of_and_links_in() -> None:
    assert host_of("https://User@Ec.Europa.EU:443/x") == "ec.europa.eu"
    assert host_of("mailto:desk@korvenmark-bio.example") == "korvenmark-bio.example"
    assert host_of("javascript:alert(1)") is None
    assert host_of("@evil_bot") is None
    assert links_in("go to evil.example, then report.pdf and www.x.example/y.") == [
        "evil.example",
        "www.x.example/y.",
    ]
