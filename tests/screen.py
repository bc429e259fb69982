"""What a person reads on screen, for assertions on AppTest elements."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """Markdown as it reads on screen: backslash-escaped punctuation (safe_text.plain_text)
    shows as the character itself."""
    return _ESCAPE.sub(r"\1", markdown)


def shown_all(elements: Iterable[Any]) -> list[str]:
    """The on-screen text of each AppTest element (errors, warnings, markdown...)."""
    return [shown(str(element.value)) for element in elements]


def navigation(at: Any) -> list[str]:
    """The titles of the pages the app's navigation offers the signed-in person after the last
    run: what they can open from the menu."""
    # AppTest has no public view of the menu; it keeps the pages st.navigation registered.
    return [str(info["page_name"]) for info in at._registered_pages.values()]
