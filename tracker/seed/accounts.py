"""Where the demo portfolio's files are (data/demo/ at the top of the repository) and the demo
accounts in them. Reading the accounts loads neither the seeder nor the tables, so the sign-in
page can list them cheaply (data/README.md describes every file)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tracker.vocabulary import Role

DEMO_DATA = Path(__file__).resolve().parents[2] / "data" / "demo"


@dataclass(frozen=True)
class DemoUser:
    """Someone to sign in as when trying the app: their organisations by short name, and their
    staff group as (organisation short name, group name), if they are staff."""

    email: str
    name: str
    role: Role
    description: str
    organisations: tuple[str, ...]
    staff_group: tuple[str, str] | None = None


def read_json(path: Path) -> object:
    """One file of the demo portfolio as JSON values."""
    return json.loads(path.read_text(encoding="utf-8"))


def demo_accounts(folder: Path = DEMO_DATA) -> tuple[DemoUser, ...]:
    """The demo accounts of `folder`'s accounts.json, in the file's order."""
    rows = read_json(folder / "accounts.json")
    assert isinstance(rows, list), "accounts.json holds a list of accounts"
    return tuple(
        DemoUser(
            email=row["email"],
            name=row["name"],
            role=Role(row["role"]),
            description=row["description"],
            organisations=tuple(row["organisations"]),
            staff_group=None
            if row.get("staff_group") is None
            else (row["staff_group"]["organisation"], row["staff_group"]["name"]),
        )
        for row in rows
    )
