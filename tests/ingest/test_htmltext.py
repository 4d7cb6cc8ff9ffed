from ingest.loaders.htmltext import Block, blocks_to_sections, html_blocks, html_text, parse_html
from ingest.types import Section


def test_scripts_styles_and_hidden_content_never_appear() -> None:
    html = (
        "<div><script>var leak = 1;</script><style>.x{}</style><p>Visible</p>"
        "<p hidden>HIDDEN</p><span aria-hidden='true'>ICON</span><!-- COMMENT -->"
        "<select><option>OPTION</option></select></div>"
    )
    assert html_text(html) == "Visible"


def test_blocks_keep_structure() -> None:
    soup = parse_html(
        "<h2>Title <em>here</em></h2><p>One <b>bold</b>\n word</p><ul><li>a</li><li>b</li></ul>"
        "<table><tr><td>x</td><td>y</td></tr></table><p>l1<br>l2</p>"
    )
    assert html_blocks(soup) == [
        Block("Title here", 2),
        Block("One bold word"),
        Block("- a"),
        Block("- b"),
        Block("x | y"),
        Block("l1"),
        Block("l2"),
    ]


def test_chrome_dropped_only_when_asked() -> None:
    markup = "<nav>Menu</nav><p>Body</p><footer>Legal</footer>"
    assert [b.text for b in html_blocks(parse_html(markup))] == ["Menu", "Body", "Legal"]
    assert [b.text for b in html_blocks(parse_html(markup), drop_chrome=True)] == ["Body"]


def test_pre_keeps_its_lines() -> None:
    assert html_text("<pre>a\n  b</pre>") == "a\nb"


def test_sections_split_at_high_headings_only() -> None:
    blocks = [
        Block("intro"),
        Block("A", 1),
        Block("x"),
        Block("sub", 4),
        Block("y"),
        Block("B", 3),
    ]
    assert blocks_to_sections(blocks) == (Section(None, "intro"), Section("A", "x\nsub\ny"))


def test_plain_strings_pass_through() -> None:
    assert html_text("no markup   here") == "no markup here"
