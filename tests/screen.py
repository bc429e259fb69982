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
