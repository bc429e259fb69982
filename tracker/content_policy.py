"""What user-written content may make a reader's browser fetch from outside the installation.

Narratives are shown through `safe_text.safe_markdown`, which shows an image from outside the
installation as a note naming its host unless that host is allowed here. The allow-list is one
installation setting (the `setting` table), empty until an administrator of every organisation
sets it: it applies to every organisation, so nobody with a narrower view may change it
(`permissions.Action.installation_administer`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlmodel import Session

from tracker import permissions
from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.models import SettingBase
from tracker.permissions import Action
from tracker.read.settings import setting_value
from tracker.services.settings import store_setting

__all__ = ["IMAGE_HOSTS_SETTING", "image_hosts", "may_change", "parse_hosts", "set_image_hosts"]

IMAGE_HOSTS_SETTING = "image_hosts"
# The setting's value holds the hosts separated by single spaces, so they share its 200 characters.
_VALUE_LIMIT = int(
    next(
        item.max_length
        for item in SettingBase.model_fields["value"].metadata
        if hasattr(item, "max_length")
    )
)
# A bare host name: dot-separated labels of letters, digits and hyphens (no scheme, port, path,
# user name or wildcard). Internationalised names are written in their xn-- form.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_HOST_MAX = 253


def image_hosts(session: Session) -> frozenset[str]:
    """The hosts narratives may show images from (lower case); empty until an administrator
    allows some, and empty if the stored value is not a list of host names."""
    hosts = (setting_value(session, IMAGE_HOSTS_SETTING) or "").split()
    if not all(_is_host(host) for host in hosts):
        return frozenset()
    return frozenset(hosts)


def parse_hosts(text: str) -> list[str]:
    """The entries of a list typed one per line (commas and spaces separate them too)."""
    return [entry for entry in re.split(r"[\s,]+", text) if entry]


def may_change(session: Session, viewer: Viewer) -> bool:
    """Whether `viewer` may change installation settings: an administrator of every
    organisation (a setting applies to all of them). For pages: the service checks again."""
    installation = permissions.installation(session)
    return permissions.allowed(viewer, Action.installation_administer, installation)


def set_image_hosts(*, session: Session, viewer: Viewer, hosts: Iterable[str]) -> frozenset[str]:
    """Allow images from exactly `hosts` (an empty list allows none); returns them.

    Only an administrator of every organisation may change it, since it applies to all of them
    (PermissionDeniedError otherwise).
    Each entry must be a bare host name such as `images.example.org`: anything else (an address
    with https://, a path, a port, a wildcard) is refused with a DomainError naming it."""
    installation = permissions.installation(session)
    permissions.require(viewer, Action.installation_administer, installation)
    chosen = frozenset(_checked_host(entry) for entry in hosts)
    value = " ".join(sorted(chosen))
    if len(value) > _VALUE_LIMIT:
        raise DomainError(
            "hosts",
            f"too many: together they may take at most {_VALUE_LIMIT} characters, "
            f"and these take {len(value)}",
        )
    store_setting(session, IMAGE_HOSTS_SETTING, value)
    return chosen


def _is_host(text: str) -> bool:
    return len(text) <= _HOST_MAX and _HOST.fullmatch(text) is not None


def _checked_host(entry: str) -> str:
    host = entry.strip().lower()
    if not _is_host(host):
        shown = entry.strip()[:80]
        raise DomainError(
            "hosts",
            f"“{shown}” is not a host name: write only the name, such as images.example.org, "
            "with no https://, path, port or wildcard",
        )
    return host
