"""The Manage pages' bulk-edit tables (barriers, milestones, metric readings): an editor over a
snapshot of the rows, whether it holds unsaved edits, and saving every row or none through the
record's own services."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session, SQLModel

from pages import _manage as manage
from tracker import permissions
from tracker.access import Viewer
from tracker.services import records
from tracker.workspace import TableEditCounts, apply_table_edits

EDIT_PARTS = ("edited_rows", "added_rows", "deleted_rows")


def pending(editor_key: str) -> bool:
    """Whether the editor under `editor_key` holds changes not saved yet."""
    edits: dict[str, Any] = st.session_state.get(editor_key) or {}
    return any(edits.get(part) for part in EDIT_PARTS)


def choices(words: Mapping[Any, str]) -> dict[str, Any]:
    """A widget's options and how each is shown, from a mapping of key -> words."""
    return {"options": list(words), "format_func": words.__getitem__}


def choice_column(label: str, words: Mapping[str, str], **settings: Any) -> Any:
    """A required table column chosen from `words` (stored key -> what a person reads)."""
    return st.column_config.SelectboxColumn(label, **choices(words), required=True, **settings)


def one_to_five(label: str, **settings: Any) -> Any:
    """A table column holding a whole number from 1 to 5 (likelihood, impact, weight)."""
    return st.column_config.NumberColumn(label, min_value=1, max_value=5, step=1, **settings)


@dataclass(frozen=True)
class RowServices:
    """The services that save a table's rows, and their typed inputs. Each service takes
    session= and viewer=; create and update take data= (`create_model` / `update_model`), update
    and delete the row's id under `id_name` (e.g. "barrier_id"), delete expected_version=."""

    create: Callable[..., object]
    create_model: type[SQLModel]
    update: Callable[..., object]
    update_model: type[SQLModel]
    delete: Callable[..., object]
    id_name: str
    # A cleared text cell arrives as None; these columns keep it as empty text.
    text_columns: tuple[str, ...] = ()

    def values(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            name: "" if value is None and name in self.text_columns else value
            for name, value in row.items()
        }


@dataclass(frozen=True)
class EditTable:
    """One bulk-edit table on a page: its rows as opened, the keys of its state, the columns
    passed to the services, the services, and what every new row belongs to."""

    rows: pd.DataFrame
    record_key: str  # the snapshot's key (pages/_manage.snapshot)
    editor_key: str
    columns: Sequence[str]
    services: RowServices
    parent: Mapping[str, int]  # e.g. {"programme_id": 7}

    def apply(self, session: Session, viewer: Viewer) -> TableEditCounts:
        """Every edit saved through the services, all or nothing (TableEditError otherwise)."""
        services = self.services

        def create(values: dict[str, Any]) -> object:
            data = services.values(values) | dict(self.parent)
            model = records.validated(services.create_model, data)
            return services.create(session=session, viewer=viewer, data=model)

        def update(row_id: int, version: int, values: dict[str, Any]) -> object:
            data = services.values(values) | {"version": version}
            model = records.validated(services.update_model, data)
            return services.update(
                session=session, viewer=viewer, data=model, **{services.id_name: row_id}
            )

        def delete(row_id: int, version: int) -> None:
            services.delete(
                session=session,
                viewer=viewer,
                expected_version=version,
                **{services.id_name: row_id},
            )

        return apply_table_edits(
            session=session,
            snapshot=self.rows.to_dict("records"),
            changes=st.session_state.get(self.editor_key) or {},
            columns=self.columns,
            create=create,
            update=update,
            delete=delete,
        )


def editor(table: EditTable, **settings: Any) -> None:
    """The table for the user to edit in place: rows can be added at its foot and deleted."""
    st.data_editor(
        table.rows,
        key=table.editor_key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        **settings,
    )


def save_button(
    viewer: Viewer,
    programme_id: int,
    table: EditTable,
    label: str,
    *,
    key: str,
    labels: dict[str, str],
    what: str,
) -> None:
    """The table's save button: every row or none, then a message counting `what` changed (a
    refusal names the rows and columns, in `labels`' words). Enabled while edits are pending."""
    if st.button(label, type="primary", key=key, disabled=not pending(table.editor_key)):

        def save_rows(session: Session) -> TableEditCounts:
            permissions.require_programme(
                session, viewer, permissions.Action.programme_edit, programme_id
            )
            return table.apply(session, viewer)

        counts = manage.save(viewer, save_rows, labels=labels)
        if counts is not None:
            manage.forget(table.record_key, [table.editor_key])
            manage.flash(counts.describe(what))
            st.rerun()
