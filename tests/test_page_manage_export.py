"""Manage → Export (pages/manage_export.py), driven with AppTest on the demo portfolio: the
downloads it offers and the personal-data warning."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import sign_in
from tests.screen import shown_all

MAYA = "maya.manager@demo.example"
LENA = "lena.leader@demo.example"
SAM = "sam.staff@demo.example"
ROOT = Path(__file__).resolve().parents[1]
PAGE = EXPORT = "pages/manage_export.py"


def test_the_export_page_offers_the_workbook_the_csv_files_and_the_exchange_file(
    app_as: Callable[[str], AppTest],
) -> None:
    at = app_as(MAYA)
    at.switch_page(EXPORT).run()
    assert not at.exception, at.exception
    labels = [button.label for button in at.get("download_button")]
    assert labels == [
        "Download XLSX workbook",
        "Download CSV files (ZIP)",
        "Download exchange file (JSON)",
    ]
    assert not at.warning
    at.checkbox(key="export_personal").check().run()
    assert any("personal data" in text for text in shown_all(at.warning))


@pytest.mark.parametrize("email", [LENA, SAM])
def test_leadership_and_staff_are_told_the_page_is_not_for_their_role(
    demo_url: str, email: str
) -> None:
    # Their navigation does not list the page (tests/test_permissions.py); opened by its
    # address, it stops itself with the message they see.
    at = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    sign_in(at, email)
    at.run()
    assert not at.exception
    assert "This page is not available to your role." in shown_all(at.error)
    assert not at.title
