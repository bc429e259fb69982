"""User text shown with st.markdown has no active content: no HTML, no javascript: links; and
nothing in it makes the reader's browser contact anything outside the installation (issue item 6):
no image from elsewhere unless its host is allowed, and every link to elsewhere shows its address.

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


def _readings_once(target: str) -> str:
    """A link target as a renderer reads it: escapes and references decoded once, then what a
    browser ignores removed and `\\` read as `/`."""
    raw = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", target)
    return re.sub(r"[\x00-\x20]", "", html.unescape(raw)).lstrip("<").replace("\\", "/")


def _outside(target: str) -> bool:
    return bool(re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:|//", _readings_once(target)))


def _opener(prose: str, closing: int) -> int | None:
    """The `[` that the `]` at `closing` closes, by bracket depth (escaped brackets skipped)."""
    depth = 0
    for index in range(closing - 1, -1, -1):
        backslashes = len(prose[:index]) - len(prose[:index].rstrip("\\"))
        if prose[index] not in "[]" or backslashes % 2:
            continue
        if prose[index] == "]":
            depth += 1
        elif depth == 0:
            return index
        else:
            depth -= 1
    return None


def remote_images(prose: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """Targets of images (`![...](target)`) or definitions (`[...]: target`, which an image can
    use) outside the installation, other than http(s) images from an allowed host."""
    found = []
    for match in re.finditer(r"\](\(|:)[\s<>]*(\S*)", prose):
        target = match.group(2)
        if not _outside(target):
            continue
        if match.group(1) == ":":
            found.append(target)
            continue
        opener = _opener(prose, match.start())
        if opener is None or opener == 0 or prose[opener - 1] != "!":
            continue
        host = re.match(r"(?:https?:)?//([^/?#:\\]*)", _readings_once(target), re.IGNORECASE)
        if not (host and "@" not in host.group(1) and host.group(1).lower() in allowed):
            found.append(target)
    return found


def hidden_addresses(prose: str) -> list[str]:
    """Links to outside the installation whose text is not their address."""
    found = []
    for match in re.finditer(r"\]\(([^\s()]*(?:\([^\s()]*\)[^\s()]*)*)\)", prose):
        target = match.group(1)
        opener = _opener(prose, match.start())
        if not _outside(target) or opener is None or (opener and prose[opener - 1] == "!"):
            continue
        label = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", prose[opener + 1 : match.start()])
        if html.unescape(label) != _readings_once(target).replace("%20", " "):
            found.append(f"{label} -> {target}")
    return found


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


def test_image_with_a_data_target_shows_as_a_note() -> None:
    assert safe_markdown("![y](data:text/html;base64,PHNjcmlwdD4=)") == (
        "\\[image not shown\\: embedded image\\]"
    )


def test_image_with_a_script_target_shows_as_its_alternative_text() -> None:
    assert safe_markdown("![y](javascript:alert(1))") == "y"


def test_forbidden_link_inside_a_safe_link_loses_only_its_own_link() -> None:
    assert safe_markdown("[a ![b](javascript:x) c](/programme)") == "[a b c](/programme)"


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


def test_reference_definition_with_a_relative_target_is_kept() -> None:
    text = "[x][1]\n\n[1]: /programme?code=DT-1"
    assert safe_markdown(text) == text


@pytest.mark.parametrize(
    "definition",
    ["[1]: https://example.org", "[1]: //example.org/x.png", "[1]: mailto:a@example.org"],
)
def test_reference_definition_with_an_outside_target_shows_literally_with_its_address(
    definition: str,
) -> None:
    # Its references could be images or links whose address the reader never sees.
    shown = safe_markdown(f"![x][1] [y][1]\n\n{definition}")
    assert shown.startswith("![x][1] [y][1]\n\n[1]\\:")
    assert "]:" not in shown


@pytest.mark.parametrize(
    "text",
    [
        "[programme](/programme?code=DT-1)",
        "[section](#why-we-are-changing)",
        "![chart](/app/static/chart.png)",
        "![chart](chart.png)",
        "Visit https://example.org/?a=1&b=2 or www.example.org",
    ],
)
def test_links_and_images_inside_the_installation_are_kept(text: str) -> None:
    assert safe_markdown(text) == text


# --- Nothing from outside the installation -------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "host"),
    [
        ("![pixel](https://tracker.example.net/p.png)", "tracker.example.net"),
        ("![pixel](http://tracker.example.net/p.png)", "tracker.example.net"),
        ("![pixel](HTTPS://Tracker.Example.NET/p.png)", "tracker.example.net"),
        ("![pixel](//tracker.example.net/p.png)", "tracker.example.net"),
        ("![pixel](/\\tracker.example.net/p.png)", "tracker.example.net"),
        ("![pixel](\\/\\/tracker.example.net/p.png)", "tracker.example.net"),
        ("![pixel](&#47;&#47;tracker.example.net/p.png)", "tracker.example.net"),
        ("![pixel](<https://tracker.example.net/a b.png>)", "tracker.example.net"),
        ('![pixel](https://tracker.example.net/p.png "Title")', "tracker.example.net"),
        ("![pixel](https://x.org@tracker.example.net/p.png)", "tracker.example.net"),
        ("![](https://tracker.example.net/p.png)", "tracker.example.net"),
        ("![pixel](mailto:a@example.org)", "an address outside this site"),
    ],
)
def test_image_from_outside_shows_as_a_note_naming_its_host(image: str, host: str) -> None:
    shown = safe_markdown(f"News {image} today")
    assert shown == f"News {plain_text(f'[image not shown: {host}]')} today"
    assert not remote_images(renderer_prose(shown))


def test_image_from_an_allowed_host_is_kept_and_others_are_not() -> None:
    allowed = frozenset({"images.example.org"})
    kept = "![chart](https://images.example.org/chart.png)"
    assert safe_markdown(kept, allowed_image_hosts=allowed) == kept
    assert safe_markdown(kept.replace("https:", ""), allowed_image_hosts=allowed) == (
        kept.replace("https:", "")
    )
    for other in (
        "![x](https://images.example.org.evil.example/a.png)",
        "![x](https://images.example.org@evil.example/a.png)",
        "![x](https://evil.example\\@images.example.org/a.png)",
        "![x](https://evil.example#@images.example.org)",
        "![x](https:images.example.org/a.png)",
    ):
        shown = safe_markdown(other, allowed_image_hosts=allowed)
        assert shown.startswith(plain_text("[image not shown:")), other
        assert not remote_images(renderer_prose(shown), allowed), other
    # Allowed by default: nothing.
    assert safe_markdown(kept) == plain_text("[image not shown: images.example.org]")


@pytest.mark.parametrize(
    "image",
    ["![chart](data:image/png;base64,iVBORw0KGgo=)", "![](DATA:x)", "![chart](&#100;ata:x)"],
)
def test_image_written_into_the_text_shows_as_a_note_even_if_allowed(image: str) -> None:
    shown = safe_markdown(image, allowed_image_hosts=frozenset({"example.org"}))
    assert shown == plain_text("[image not shown: embedded image]")


@pytest.mark.parametrize(
    ("link", "shown_as"),
    [
        (
            "[sign in again](https://phish.example.org/login)",
            "sign in again ([https\\:\\/\\/phish\\.example\\.org\\/login]"
            "(https://phish.example.org/login))",
        ),
        (
            "[ok](http://example.org/a_(b)?q=1)",
            "ok ([http\\:\\/\\/example\\.org\\/a\\_\\(b\\)\\?q\\=1]"
            "(http://example.org/a_\\(b\\)?q=1))",
        ),
        (
            "[write to us](mailto:change@example.org)",
            "write to us ([mailto\\:change\\@example\\.org](mailto:change@example.org))",
        ),
        (
            "[**Sign in**](//phish.example.org)",
            "**Sign in** ([\\/\\/phish\\.example\\.org](//phish.example.org))",
        ),
        # A link whose text is its address, or empty, shows the address once.
        (
            "[https://example.org](https://example.org)",
            "[https\\:\\/\\/example\\.org](https://example.org)",
        ),
        ("[](https://example.org)", "[https\\:\\/\\/example\\.org](https://example.org)"),
    ],
)
def test_link_to_outside_shows_its_text_then_its_address_as_the_link(
    link: str, shown_as: str
) -> None:
    assert safe_markdown(link) == shown_as


def test_link_address_is_shown_as_the_renderer_reads_it_and_cannot_add_markup() -> None:
    shown = safe_markdown("[x](<https://e.org/a b>) [y](https://e.org/&#42;*_`:red[z]:)")
    assert shown == (
        "x ([https\\:\\/\\/e\\.org\\/a\\%20b](https://e.org/a%20b)) "
        "y ([https\\:\\/\\/e\\.org\\/\\*\\*\\_\\%60\\:red\\[z\\]\\:]"
        "(https://e.org/**_%60:red\\[z\\]:))"
    )


def test_nested_outside_image_and_links_each_show_their_address() -> None:
    assert safe_markdown("[![logo](https://x.org/l.png)](https://y.org)") == (
        "\\[image not shown\\: x\\.org\\] ([https\\:\\/\\/y\\.org](https://y.org))"
    )
    assert safe_markdown("[a [b](https://x.org) c](https://y.org)") == (
        "a b ([https\\:\\/\\/x\\.org](https://x.org)) c ([https\\:\\/\\/y\\.org](https://y.org))"
    )


def test_outside_link_that_cannot_be_made_out_is_not_a_link() -> None:
    assert safe_markdown("![x](https://tracker.example.net/p.png") == (
        "![x]\\(https://tracker.example.net/p.png"
    )


def test_safe_markdown_of_its_own_output_changes_no_link_or_image() -> None:
    once = safe_markdown("[a](https://x.org/?q=1&b) ![p](https://x.org/p.png) [r](/r)")
    assert safe_markdown(once) == once


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
    *["![", "//", "https://x.org/p.png", "http:", "&#47;", "\\/", "ok.org", "@"],
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
    assert remote_images(prose) == []
    assert hidden_addresses(prose) == []


@settings(max_examples=1000, deadline=None)
@given(markdown_text)
def test_safe_markdown_shows_no_outside_image_but_from_an_allowed_host(text: str) -> None:
    allowed = frozenset({"ok.org"})
    prose = renderer_prose(safe_markdown(text, allowed_image_hosts=allowed))
    assert not TAG_START.search(prose)
    assert forbidden_targets(prose) == []
    assert remote_images(prose, allowed) == []


@settings(max_examples=300)
@given(st.text(alphabet="abcXYZ 019,.;?!*_-#\n", max_size=80))
def test_text_without_markup_characters_is_unchanged(text: str) -> None:
    assert safe_markdown(text) == text.replace("\r", "\n")
