"""User-written text made safe to show with Streamlit's `st.markdown`.

Narratives, notes and titles are written by people and shown to other people. The functions here
make such text inert on their own, whatever the renderer would do with it: Streamlit's front end
happens to drop raw HTML and odd link schemes too, but nothing here relies on that.

- `safe_markdown` keeps ordinary Markdown (headings, lists, emphasis, tables, code, links) and
  removes active content: HTML tags show as literal text, and links or images whose target is
  not http, https, mailto or a relative address lose their link and show as their plain text.
  Nothing it keeps makes the reader's browser contact anything outside the installation: an
  image from elsewhere shows as a note naming its host (unless an administrator allowed that
  host), and a link to elsewhere shows its address, so no link text can pass for another place.
- `plain_text` shows text with no Markdown at all (for titles and table cells).

How it stays safe without a full Markdown parser: it never depends on reading the Markdown the
same way as the renderer. Fenced code blocks are the only place a raw `<` survives, and they are
written back in a form no renderer can misread (a fence at the start of a line, after a blank
line, closed by an identical fence); any other line that could look like a fence is escaped.
Everywhere else every `<` is either the entity `&lt;` or, inside inline code (where entities
would show literally), followed by an invisible word joiner so it can never start a tag. Every
`](` and `]:` outside fenced code is checked as a possible link target, whether or not it really
is one, after decoding entities and backslash escapes the way a renderer or browser might. A target
is "outside" when any such reading has a scheme or starts with `//` (a browser reads `\\` as `/`).
"""

from __future__ import annotations

import html
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

__all__ = ["ALLOWED_SCHEMES", "IMAGE_NOT_SHOWN", "is_safe_url", "plain_text", "safe_markdown"]

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
"""Link and image targets may use these schemes, or none (a relative address)."""

# Follows `<` inside inline code: invisible, and no tag, comment or autolink starts with it.
WORD_JOINER = "\u2060"

_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# What a browser's URL parser ignores, plus what a permissive reader might: control characters,
# whitespace and invisible format characters (zero-width space, soft hyphen, byte-order mark).
_IGNORABLE = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
# Between `](` or `]:` and a link target: spaces, line breaks, block-quote markers, and the `<`
# that opens a bracketed target.
_TARGET_LEAD = re.compile(r"[\s<>]*")
# Up to white space or a bracket: a bracket before the scheme's colon means no scheme, and
# stopping there keeps a text full of `](` from being read once per `](`.
_TARGET = re.compile(r"[^\s()\[\]]*")
# What matters in a link destination not in `<...>`: escapes, brackets, and where it ends.
_DESTINATION_STOP = re.compile(r"[\\()]|\s")
# How far a link's brackets are looked for: beyond it, an unsafe link's `(` is escaped instead.
_LOOK_LIMIT = 2000
# A line that a renderer could read as opening or closing a fenced code block inside any
# container (block quote, list item): backticks with no backtick after them, or tildes.
_FENCE_LIKE = re.compile(r"^((?:[ \t>]|[-+*][ \t]|\d{1,9}[.)][ \t])*)(`{3,}(?=[^`]*$)|~{3,})")
_FENCE_OPEN = re.compile(r"(`{3,}|~{3,})(.*)")
_FENCE_INFO = re.compile(r"[A-Za-z0-9_+#.\-]*")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# Block-quote markers at the start of a line: `>` there is Markdown, not text to escape.
_QUOTE_MARKERS = re.compile(r"[ \t]*(?:>[ \t]*)+")
# What a CommonMark renderer decodes in a link destination, in one pass: a backslash escape, or
# a character reference (only with its `;`, unlike html.unescape).
_DECODED = re.compile(
    r"\\([!-/:-@\[-`{-~])|(&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});)"
)
IMAGE_NOT_SHOWN = "image not shown"
"""The note shown, in square brackets with the host, instead of an image from outside."""
ELSEWHERE = "an address outside this site"
"""Names the place of an outside image whose host cannot be made out."""
EMBEDDED = "embedded image"
"""Names the place of an image written into the text itself (a data: address)."""
# `&` matters only where it could start a character reference: a bare `&` already shows as
# itself, and escaping it would break addresses such as `https://x.org/?a=1&b=2`.
_PROSE_SPECIAL = re.compile(r"(\\*)(<|>|&(?=#|[A-Za-z][A-Za-z0-9]*;))")


def safe_markdown(text: str, *, allowed_image_hosts: frozenset[str] = frozenset()) -> str:
    """Markdown for `st.markdown` that shows `text` with no active content, and that makes the
    reader's browser contact nothing outside the installation.

    Promises, for any input:
    - no HTML: outside fenced code blocks no `<` can start a tag, comment or autolink (it is
      `&lt;` in text, and followed by an invisible word joiner inside inline code);
    - no link or image with a target other than http, https, mailto or a relative address: such
      a link shows as its text (an image as its alternative text, or as the note `[image not
      shown: embedded image]` if its target is a data: address), and a reference definition
      with such a target shows as literal text, so references to it show literally too;
    - no image from outside the installation (a target with a scheme, or starting with `//`),
      unless it is http or https from one of `allowed_image_hosts` (lower-case host names) by
      every reading: it shows as the note `[image not shown: host]`;
    - a link to outside the installation shows as its text followed by its address in brackets,
      and only the address is the link: `[text](https://x)` shows as "text (https://x)". A
      reference definition with an outside target shows as literal text, address included;
    - every fenced code block starts after a blank line and ends with a copy of its opening fence.
    Other Markdown is kept as written, relative links and images included. `&` and `>` show
    literally (so `&copy;` stays `&copy;`), and `>` still marks a block quote at the start of a
    line. Line endings become `\\n`.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for block in _split_fences(text):
        if isinstance(block, _Fence):
            # A blank line first: then no paragraph, table or list can claim the fence.
            if out and out[-1].split("\n")[-2].strip():
                out.append("\n")
            out.append(f"{block.fence}{block.info}\n{block.body}{block.fence}\n")
        else:
            out.append(_safe_prose(block, allowed_image_hosts))
    return "".join(out)


def plain_text(text: str) -> str:
    """Markdown that shows `text` literally, on one line, with no formatting at all.

    Every ASCII punctuation character is backslash-escaped, so `**x**`, `# x`, `[x](y)`, `<b>`,
    `|` (in a table cell) and `$x$` all show as typed. Runs of whitespace, line breaks included,
    become one space, and leading and trailing whitespace goes: meant for titles, names and table
    cells. Safe to embed in other Markdown, e.g. `f"**{plain_text(title)}**"`.
    """
    flat = " ".join(text.split())
    return "".join(f"\\{char}" if char in _ASCII_PUNCTUATION else char for char in flat)


def is_safe_url(target: str) -> bool:
    """Whether a link or image target is allowed: http, https, mailto, or no scheme at all.

    `target` is the text as written in Markdown. It is judged by every reading a renderer or
    browser could give it: with and without decoding entities (`&#106;`, `&colon;`, repeatedly)
    and backslash escapes, ignoring control and invisible characters and a leading `<`, and
    ignoring case. Only if no reading has another scheme is it safe.
    """
    for reading in _readings(target):
        match = _SCHEME.match(reading)
        if match and match.group(1).lower() not in ALLOWED_SCHEMES:
            return False
    return True


# --- Fenced code blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fence:
    fence: str
    info: str
    body: str


def _split_fences(text: str) -> list[str | _Fence]:
    """The text as prose strings and fenced code blocks, in order.

    A block opens at a fence in column 0 (written back after a blank line, so every renderer
    agrees). It closes at the first line that any renderer might read as a closing fence, at any
    indentation, or at the end of the text. Prose strings are whole lines.
    """
    blocks: list[str | _Fence] = []
    prose: list[str] = []
    lines = _lines(text)
    index = 0
    while index < len(lines):
        line = lines[index]
        opening = _FENCE_OPEN.fullmatch(line.rstrip("\n"))
        fence = opening.group(1) if opening else ""
        info = opening.group(2) if opening else ""
        if opening and not (fence[0] == "`" and "`" in info):
            if prose:
                blocks.append("".join(prose))
                prose = []
            body: list[str] = []
            index += 1
            while index < len(lines) and not _closes(lines[index], fence):
                body.append(lines[index] if lines[index].endswith("\n") else lines[index] + "\n")
                index += 1
            index += 1  # the closing fence, written back as a copy of the opening one
            match = _FENCE_INFO.match(info.strip())
            blocks.append(_Fence(fence, match.group(0) if match else "", "".join(body)))
            continue
        prose.append(line)
        index += 1
    if prose:
        blocks.append("".join(prose))
    return blocks


def _lines(text: str) -> list[str]:
    """The lines of `text`, each with its `\\n`. Only `\\n` ends a line in Markdown, unlike
    `str.splitlines`, which also splits at form feeds and other separators."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


# --- Prose: links, fence-like lines, inline code, escaping --------------------------------------


def _safe_prose(text: str, allowed_image_hosts: frozenset[str]) -> str:
    text = _defang_inline_links(text)
    text = _keep_inside(text, allowed_image_hosts)
    text = _defang_definitions(text)
    text = "".join(_FENCE_LIKE.sub(r"\1\\\2", line) for line in _lines(text))
    out: list[str] = []
    position = 0
    for start, end in _code_spans(text):
        out.append(_escape_prose(text, position, start))
        out.append(text[start:end].replace("<", "<" + WORD_JOINER))
        position = end
    out.append(_escape_prose(text, position, len(text)))
    return "".join(out)


def _defang_inline_links(text: str) -> str:
    """Every `[text](target)` or `![alt](target)` with an unsafe target becomes `text`, except
    an image with a data: target (an image pasted in), which becomes `[image not shown: ...]`.

    Every `](` is checked, in code or not. When the whole link cannot be made out, the `(` is
    backslash-escaped instead, which still stops it being a link.
    """
    position = 0
    while (bracket := text.find("](", position)) >= 0:
        lead = _TARGET_LEAD.match(text, bracket + 2)
        assert lead is not None  # matches the empty string
        target = _TARGET.match(text, lead.end())
        assert target is not None
        if is_safe_url(target.group(0)):
            position = bracket + 2
            continue
        opener = _opening_bracket(text, bracket)
        closer = None if opener is None else _link_end(text, bracket + 2)[0]
        if opener is None or closer is None:
            text = f"{text[: bracket + 1]}\\{text[bracket + 1 :]}"
            position = bracket + 3
            continue
        start = opener - 1 if opener > 0 and text[opener - 1] == "!" else opener
        label = text[opener + 1 : bracket]
        if start < opener and _is_data(target.group(0)):
            label = _image_note(EMBEDDED)
        text = text[:start] + label + text[closer + 1 :]
        # Joining the pieces can make a new `](` just before the label.
        position = max(0, start - 1)
    return text


def _keep_inside(text: str, allowed_image_hosts: frozenset[str]) -> str:
    """Every `![alt](target)` with an outside target becomes the note `[image not shown: host]`
    unless it is http or https from an allowed host, and every `[text](target)` with an outside
    target becomes `text ([address](target))`, the address shown literally.

    Runs after `_defang_inline_links`, so every `](` is followed by a safe target. Each `](` is
    looked at once, left to right, in code or not; the link made for an address is passed over.
    When the whole link cannot be made out, the `(` is backslash-escaped instead.
    """
    position = 0
    while (bracket := text.find("](", position)) >= 0:
        position = bracket + 2
        if _escaped(text, bracket):
            continue  # `\\](` closes no link
        lead = _TARGET_LEAD.match(text, bracket + 2)
        assert lead is not None
        target = _TARGET.match(text, lead.end())
        assert target is not None
        outside = _outside(target.group(0))
        if not outside and "<" not in lead.group(0):
            continue  # the target as far as a space or bracket decides it, unless in <...>
        opener = _opening_bracket(text, bracket)
        closer, destination = (None, "") if opener is None else _link_end(text, bracket + 2)
        if not outside and not (closer is not None and _outside(destination)):
            continue
        if opener is None or closer is None:
            text = f"{text[: bracket + 1]}\\{text[bracket + 1 :]}"
            position = bracket + 3
            continue
        label = text[opener + 1 : bracket]
        if opener > 0 and text[opener - 1] == "!":
            hosts = _image_hosts(destination)
            if hosts and hosts <= allowed_image_hosts:
                continue
            shown = _image_note(min(hosts) if hosts else _host_of(destination))
            text = text[: opener - 1] + shown + text[closer + 1 :]
            position = opener - 1 + len(shown)
            continue
        address = _address(destination)
        link = f"[{_literal(address)}]({_destination_text(address)})"
        if not is_safe_url(_destination_text(address)):  # never: it is a reading of a safe one
            link = _literal(address)
        said = _BACKSLASH_ESCAPE.sub(r"\1", label).strip()
        replacement = link if said in ("", address) else f"{label} ({link})"
        text = text[:opener] + replacement + text[closer + 1 :]
        position = opener + len(replacement)
    return text


def _defang_definitions(text: str) -> str:
    """Every `]:` followed by an unsafe or outside target becomes `]\\:`, so no definition starts
    there: a reference to it shows literally, and so does the definition, address included."""
    out: list[str] = []
    position = 0
    while (colon := text.find("]:", position)) >= 0:
        lead = _TARGET_LEAD.match(text, colon + 2)
        assert lead is not None
        target = _TARGET.match(text, lead.end())
        assert target is not None
        out.append(text[position : colon + 1])
        if not is_safe_url(target.group(0)) or _outside(target.group(0)):
            out.append("\\")
        position = colon + 1
    out.append(text[position:])
    return "".join(out)


def _opening_bracket(text: str, closing: int) -> int | None:
    """Index of the `[` that the `]` at `closing` closes, or None."""
    if text.rfind("[", max(0, closing - _LOOK_LIMIT), closing) < 0:
        return None
    depth = 0
    for index in range(closing - 1, max(-1, closing - _LOOK_LIMIT), -1):
        char = text[index]
        if char not in "[]" or _escaped(text, index):
            continue
        if char == "]":
            depth += 1
        elif depth == 0:
            return index
        else:
            depth -= 1
    return None


def _link_end(text: str, start: int) -> tuple[int | None, str]:
    """Index of the `)` that ends a link whose `(` is just before `start` (or None), and the
    link's destination as written, without the `<` and `>` around a bracketed one."""
    end = min(len(text), start + _LOOK_LIMIT)
    index = _skip_space(text, start, end)
    if index < end and text[index] == "<":
        closing = text.find(">", index, end)
        if closing < 0 or "\n" in text[index:closing]:
            return None, ""
        destination = text[index + 1 : closing]
        index = closing + 1
    else:
        first = index
        depth = 0
        # Up to white space or the `)` that balances: only `\\`, `(`, `)` and spaces matter.
        while (stop := _DESTINATION_STOP.search(text, index, end)) is not None:
            index = stop.start()
            char = text[index]
            if char == "\\":
                index += 2
                continue
            if char.isspace() or (char == ")" and depth == 0):
                break
            depth += 1 if char == "(" else -1
            index += 1
        else:
            index = max(index, end)
        destination = text[first:index]
    index = _skip_space(text, index, end)
    if index < end and text[index] in "\"'(":
        title_end = ")" if text[index] == "(" else text[index]
        index += 1
        while index < end and text[index] != title_end:
            index += 2 if text[index] == "\\" else 1
        index = _skip_space(text, index + 1, end)
    return (index if index < end and text[index] == ")" else None), destination


def _skip_space(text: str, index: int, end: int) -> int:
    while index < end and text[index].isspace():
        index += 1
    return index


def _escaped(text: str, index: int) -> bool:
    """Whether the character at `index` follows an odd number of backslashes."""
    count = 0
    while index - count - 1 >= 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Best reading of where inline code spans are: a run of backticks to the next run of the
    same length, within one paragraph. Only the display depends on it being right."""
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char != "`":
            index += 1
            continue
        run_end = index
        while run_end < len(text) and text[run_end] == "`":
            run_end += 1
        run = text[index:run_end]
        closing = _matching_run(text, run, run_end)
        if closing is None:
            index = run_end
            continue
        spans.append((index, closing + len(run)))
        index = closing + len(run)
    return spans


def _matching_run(text: str, run: str, start: int) -> int | None:
    paragraph_end = _BLANK_LINE.search(text, start)
    limit = paragraph_end.start() if paragraph_end else len(text)
    for match in re.finditer("`+", text[start:limit]):
        if match.group(0) == run:
            return start + match.start()
    return None


def _escape_prose(text: str, start: int, end: int) -> str:
    """`<`, `>` and an `&` that could start a character reference, in text[start:end], as
    entities; except block-quote `>` at a line start.

    A backslash that escaped one of them is dropped (the entity already shows it literally)."""
    out: list[str] = []
    position = start
    while position < end:
        line_end = text.find("\n", position, end)
        line_end = end if line_end < 0 else line_end + 1
        if position == 0 or text[position - 1] == "\n":
            markers = _QUOTE_MARKERS.match(text, position, line_end)
            if markers:
                out.append(markers.group(0))
                position = markers.end()
        out.append(_PROSE_SPECIAL.sub(_entity, text[position:line_end]))
        position = line_end
    return "".join(out)


def _entity(match: re.Match[str]) -> str:
    backslashes = match.group(1)
    kept = backslashes[:-1] if len(backslashes) % 2 else backslashes
    return kept + {"<": "&lt;", ">": "&gt;", "&": "&amp;"}[match.group(2)]


# --- Reading a link target ---------------------------------------------------------------------


def _readings(target: str) -> set[str]:
    """The ways a renderer or browser might read `target`, normalised for a scheme check."""
    readings = {target}
    for _ in range(4):
        grown = set(readings)
        for reading in readings:
            grown.add(html.unescape(reading))
            grown.add(_BACKSLASH_ESCAPE.sub(r"\1", reading))
        if grown == readings:
            break
        readings = grown
    return {_normalise(reading) for reading in readings}


def _outside(target: str) -> bool:
    """Whether any reading of a (safe) target leaves the installation: a scheme, or `//`."""
    return any(
        _SCHEME.match(reading) or reading.replace("\\", "/").startswith("//")
        for reading in _readings(target)
    )


def _is_data(target: str) -> bool:
    """Whether some reading of `target` is a data: address."""
    return any(
        (match := _SCHEME.match(reading)) and match.group(1).lower() == "data"
        for reading in _readings(target)
    )


def _image_note(host: str) -> str:
    """What shows instead of an image that is not shown: `[image not shown: host]`, literally."""
    return _literal(f"[{IMAGE_NOT_SHOWN}: {host}]")


def _image_hosts(destination: str) -> frozenset[str]:
    """The hosts an image at `destination` would come from, one per reading; empty unless every
    reading is an http or https address with a host."""
    hosts: set[str] = set()
    for reading in _readings(destination):
        reading = reading.replace("\\", "/")
        if reading.startswith("//"):
            reading = "https:" + reading
        try:
            parts = urllib.parse.urlsplit(reading)
            host = parts.hostname
        except ValueError:
            return frozenset()
        if parts.scheme.lower() not in ("http", "https") or not host:
            return frozenset()
        hosts.add(host.lower())
    return frozenset(hosts)


def _host_of(destination: str) -> str:
    """The host to name for an outside image that has no http or https host by every reading."""
    address = _address(destination).replace("\\", "/")
    try:
        host = urllib.parse.urlsplit("https:" + address if address.startswith("//") else address)
        return host.hostname or ELSEWHERE
    except ValueError:
        return ELSEWHERE


def _address(destination: str) -> str:
    """A link destination as a CommonMark renderer reads it (backslash escapes and character
    references decoded once), with white space, `<`, `>` and backticks percent-encoded (so that
    written back, it cannot end a link or start code)."""
    decoded = _DECODED.sub(
        lambda match: match.group(1) or html.unescape(match.group(2)), destination
    )
    return "".join(
        urllib.parse.quote(char) if char.isspace() or char in "<>`" else char for char in decoded
    )


def _destination_text(address: str) -> str:
    """`address` written as a link destination: backslash and brackets escaped."""
    return re.sub(r"([\\()\[\]])", r"\\\1", address)


def _literal(text: str) -> str:
    """`text` shown as typed: every ASCII punctuation character backslash-escaped."""
    return "".join(f"\\{char}" if char in _ASCII_PUNCTUATION else char for char in text)


def _normalise(reading: str) -> str:
    reading = unicodedata.normalize("NFKC", reading)
    return _IGNORABLE.sub("", reading).lstrip("<")
