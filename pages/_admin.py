"""Glue the Admin pages share: saving a form that stands on the version it was built from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pages import _manage as manage
from tracker.access import Viewer
from tracker.services import records


def save_update(
    viewer: Viewer,
    service: Callable[..., Any],
    model: type[Any],
    update: Mapping[str, Any],
    record_key: str,
    labels: dict[str, str],
) -> bool:
    """Save a form's `update` (its fields and the "version" it was built from) as the viewer:
    `service(session=, viewer=, data=)` gets it checked against `model` (an XUpdate) and
    returns the saved record. A refusal is shown next to the form; on success the form stands
    on the record's new version. True when saved."""

    def change(session: Any) -> int:
        data = records.validated(model, update)
        return int(service(session=session, viewer=viewer, data=data).version)

    version = manage.save(viewer, change, labels=labels)
    if version is None:
        return False
    manage.saved(record_key, version)
    return True
