"""User text shown with st.markdown has no active content: no HTML, no javascript: links.

The property tests read the output the way a CommonMark renderer would (fenced code blocks by
CommonMark's own rules, link targets decoded once, as a renderer does) rather than trusting the
reading that tracker.safe_text uses to build it.
"""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.safe_text import WORD_JOINER, is_safe_url, plain_text, safe_markdown

# --- Reading the output as a renderer would ---------------------------------------------------

ALLOWED = {"http", "https", "mailto"}
FENCE_OPEN = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
FENCE_ANYWHERE = re.compile(r"(?:[ \t>]|[-+*][ \t]|\d{1,9}[.)][ \t])*(`{3,}|~{3,})(.*)")
TAG_START = re.compile(r"<[A-Za-z/!?]")


def renderer_prose(markdown: str) -> str:
    """The text outside fenced code blocks, by CommonMark's rules, checking on the way that no
    other line could open a block inside a list or quote and that each block follows a blank
    line (so no container or table can change how a renderer reads it)."""
    prose: list[str] = []
    fence = ""
    previous = ""
    for line in markdown.split("\n"):
        if fence:
            stripped = line.strip()
            if len(line) - len(line.lstrip(" ")) <= 3 and stripped and set(stripped) == {fence[0]}:
                fence = "" if len(stripped) >= len(fence) else fence
        else:
            opening = FENCE_OPEN.fullmatch(line)
            if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
                assert not previous.strip(), f"fence after a non-blank line: {markdown!r}"
                fence = opening.group(1)
            else:
                anywhere = FENCE_ANYWHERE.fullmatch(line)
                assert not (
                    anywhere and not (anywhere.group(1)[0] == "`" and "`" in anywhere.group(2))
                ), f"fence-like line in prose: {line!r}"
                prose.append(line)
        previous = line
    return "\n".join(prose)


def forbidden_targets(prose: str) -> list[str]:
    """Targets after `](` or `]:` (decoded once, as a renderer does) with a forbidden scheme."""
    forbidden = []
    for match in re.finditer(r"\](?:\(|:)[\s<>]*(\S*)", prose):
        raw = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", match.group(1))
        target = re.sub(r"[\x00-\x20]", "", html.unescape(raw)).lstrip("<")
        scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", target)
        if scheme and scheme.group(1).lower() not in ALLOWED:
            forbidden.append(target)
    return forbidden


# --- Payloads -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "shown_as"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("<!-- hidden -->", "&lt;!-- hidden --&gt;"),
        ("<javascript:alert(1)>", "&lt;javascript:alert(1)&gt;"),
        ("Before <b>bold</b> after", "Before &lt;b&gt;bold&lt;/b&gt; after"),
    ],
)
def test_html_in_user_text_shows_as_literal_text(payload: str, shown_as: str) -> None:
    assert safe_markdown(payload) == shown_as


@pytest.mark.parametrize(
    "payload",
    [
        "[x](javascript:alert(1))",
        "[x]( JaVaScRiPt:alert(1))",
        "[x](jav&#x61;script:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](javascript&colon;alert(1))",
        "[x](javascript\\:alert(1))",
        "[x](<javascript:alert(1)>)",
        "[x](java\u200bscript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '[x](javascript:alert(1) "a title")',
        "[x](\njavascript:alert(1))",
    ],
)
def test_link_with_a_forbidden_scheme_shows_as_its_text(payload: str) -> None:
    assert safe_markdown(f"See {payload} now") == "See x now"


def test_image_with_a_data_target_shows_as_its_alternative_text() -> None:
    assert safe_markdown("![y](data:text/html;base64,PHNjcmlwdD4=)") == "y"


def test_forbidden_link_inside_a_safe_link_loses_only_its_own_link() -> None:
    assert safe_markdown("[a ![b](data:x) c](https://example.org)") == (
        "[a b c](https://example.org)"
    )


def test_unlinking_never_joins_brackets_into_a_new_forbidden_link() -> None:
    assert safe_markdown("[[y]](javascript:1)(javascript:2)") == "y"


@pytest.mark.parametrize(
    "definition",
    [
        "[1]: javascript:alert(1)",
        "[1]: JAVASCRIPT:alert(1)",
        "[1]:\n    javascript:alert(1)",
        "[1]: <javascript:alert(1)>",
        "> [1]: javascript:alert(1)",
        "[1]: &#106;avascript:alert(1)",
    ],
)
def test_reference_definition_with_a_forbidden_scheme_shows_as_literal_text(
    definition: str,
) -> None:
    shown = safe_markdown(f"[x][1] and [1]\n\n{definition}")
    assert "]\\:" in shown
    assert "]:" not in shown


def test_reference_definition_with_https_is_kept() -> None:
    text = "[x][1]\n\n[1]: https://example.org"
    assert safe_markdown(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "[ok](https://example.org)",
        "[ok](http://example.org/a_(b)?q=1)",
        "[write to us](mailto:change@example.org)",
        "[programme](/programme?code=DT-1)",
        "[section](#why-we-are-changing)",
        "![chart](https://example.org/chart.png)",
        "Visit https://example.org/?a=1&b=2 or www.example.org",
    ],
)
def test_safe_links_and_images_are_kept(text: str) -> None:
    assert safe_markdown(text) == text


def test_ordinary_markdown_is_kept_as_written() -> None:
    text = (
        "# Why we are changing\n\n"
        "Residents wait **too long**, and _staff_ retype data.\n\n"
        "## What changes for you\n\n"
        "1. New case system in March\n"
        "2. Training from 3 Feb\n\n"
        "- Drop-in sessions\n"
        "  - Tuesdays\n\n"
        "> We did this together.\n"
        "> > Nested quote\n\n"
        "| Stage | When |\n"
        "| --- | --- |\n"
        "| Launch | May |\n\n"
        ":green[On track] :material/check_circle: ~~old way~~\n"
    )
    assert safe_markdown(text) == text


def test_ampersands_and_entities_show_literally() -> None:
    assert safe_markdown("Health & care, &copy; &#60;b&#62; &amp;") == (
        "Health & care, &amp;copy; &amp;#60;b&amp;#62; &amp;amp;"
    )


def test_a_backslash_that_escaped_an_angle_bracket_is_not_shown() -> None:
    assert safe_markdown("\\<b\\>") == "&lt;b&gt;"
    assert safe_markdown("\\\\<b>") == "\\\\&lt;b&gt;"


def test_fenced_code_shows_html_literally_after_a_blank_line() -> None:
    text = "Example:\n```html\n<b>bold</b> & more\n```\nAfter <i>"
    assert safe_markdown(text) == ("Example:\n\n```html\n<b>bold</b> & more\n```\nAfter &lt;i&gt;")


def test_unclosed_fence_is_closed_at_the_end() -> None:
    assert safe_markdown("~~~\n<b>") == "~~~\n<b>\n~~~\n"


def test_fence_info_string_keeps_only_a_language_name() -> None:
    assert safe_markdown("```py<script>\nx\n```") == "```py\nx\n```\n"


def test_fence_closed_by_an_indented_or_longer_fence_is_closed_there() -> None:
    assert safe_markdown("```\na\n      `````\n<b>") == "```\na\n```\n&lt;b&gt;"


@pytest.mark.parametrize(
    "text",
    [
        "- item\n  ```\n<script>alert(1)</script>\n```",
        "  ```\nfoo\n```\n<script>alert(1)</script>\n```",
        "> ```\n> x\n<script>alert(1)</script>",
    ],
)
def test_fence_inside_a_list_or_quote_cannot_hide_html(text: str) -> None:
    assert not TAG_START.search(renderer_prose(safe_markdown(text)))


def test_inline_code_shows_angle_brackets_and_ampersands_as_typed() -> None:
    assert safe_markdown("Type `<br>` or `a && b`") == (f"Type `<{WORD_JOINER}br>` or `a && b`")


def test_backtick_inside_a_link_target_cannot_hide_html() -> None:
    # A renderer reads `[a](x`y)` as a link, so the tag is not in code whatever it looks like.
    shown = safe_markdown("[a](x`y) <img src=x onerror=alert(1)> `z`")
    assert not TAG_START.search(renderer_prose(shown))


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("https://example.org", True),
        ("HTTPS://example.org", True),
        ("mailto:a@example.org", True),
        ("/relative/path", True),
        ("page?x=a:b", True),
        ("javascript:alert(1)", False),
        ("\tjavascript:alert(1)", False),
        ("java&#x73;cript:alert(1)", False),
        ("&amp;#106;avascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("file:///etc/passwd", False),
        ("ｊａｖａｓｃｒｉｐｔ:alert(1)", False),
    ],
)
def test_is_safe_url_allows_only_http_https_mailto_and_relative(target: str, safe: bool) -> None:
    assert is_safe_url(target) is safe


# --- plain_text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown_as"),
    [
        ("**x**", "\\*\\*x\\*\\*"),
        ("# Heading", "\\# Heading"),
        ("1. Not a list", "1\\. Not a list"),
        ("a | b", "a \\| b"),
        ("<b>hi</b>", "\\<b\\>hi\\<\\/b\\>"),
        ("[x](javascript:alert(1))", "\\[x\\]\\(javascript\\:alert\\(1\\)\\)"),
        ("Costs $5 to $10", "Costs \\$5 to \\$10"),
        ("  Two\nlines\t here ", "Two lines here"),
        ("Café – Ørsted", "Café – Ørsted"),
    ],
)
def test_plain_text_shows_markdown_literally_on_one_line(text: str, shown_as: str) -> None:
    assert plain_text(text) == shown_as


@settings(max_examples=1000)
@given(st.text())
def test_plain_text_escapes_every_punctuation_mark_and_keeps_the_words(text: str) -> None:
    shown = plain_text(text)
    assert "\n" not in shown
    unescaped = re.sub(r"\\(.)", r"\1", shown)
    assert unescaped == " ".join(text.split())
    # Every punctuation mark is preceded by a backslash that is not itself escaped.
    assert re.fullmatch(r"(?:\\[!-/:-@\[-`{-~]|[^!-/:-@\[-`{-~])*", shown)


# --- Property: inert for any input ----------------------------------------------------------------

PIECES = [
    *"<>&[]()!:\\`|\"'#*/;xa1 \t\n\x00\x0c\x1e\u200b\u2028",
    *["``", "```", "~~~", "\n\n", "    ", "- ", "> ", "1. ", "](", "]:"],
    *["javascript", "JaVaScRiPt", "vbscript", "data", "file", "https", "mailto", "script", "img"],
    *["&#106;", "&#x61;", "&colon;", "&#58;", "&amp;"],
    *["<script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)"],
]
markdown_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=40).map(
    "".join
)


@settings(max_examples=1000, deadline=None)
@given(markdown_text)
def test_safe_markdown_output_has_no_tag_and_no_forbidden_link(text: str) -> None:
    prose = renderer_prose(safe_markdown(text))
    assert not TAG_START.search(prose)
    assert forbidden_targets(prose) == []


@settings(max_examples=300)
@given(st.text(alphabet="abcXYZ 019,.;?!*_-#\n", max_size=80))
def test_text_without_markup_characters_is_unchanged(text: str) -> None:
    assert safe_markdown(text) == text.replace("\r", "\n")
