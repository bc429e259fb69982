"""Where a person appears (tracker/read/privacy.py): what is looked for of a name, how it is
matched, the map of tables that can name a person, and the passages a subject access export
shows. The finder against real data, and erasure rewriting what it finds: tests/test_privacy.py."""

from __future__ import annotations

import pytest
from sqlmodel import SQLModel

from tracker import read


def test_a_name_gives_the_whole_name_and_each_part_of_three_letters_or_more() -> None:
    assert read.privacy.name_terms("Priya Shah") == ["Priya Shah", "Priya", "Shah"]
    assert read.privacy.name_terms("Al Li") == ["Al Li"]
    assert read.privacy.name_terms(" Mrs  Jean-Luc O'Neil ") == [
        "Mrs Jean-Luc O'Neil",
        "Jean-Luc",
        "Jean",
        "Luc",
        "O'Neil",
    ]
    assert read.privacy.name_terms("X") == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Met PRIYA on Monday", ["PRIYA"]),
        ("shah's team", ["shah"]),
        ("Priya\n  Shah agreed", ["Priya\n  Shah"]),
        ("Shahid and Priyanka are someone else", []),
        ("Zoë Ångström; ZOË; ångström's", ["Zoë Ångström", "ZOË", "ångström"]),
        ("Zoëlle Ångströms", []),
        ("Al Li, and Al, and Li", ["Al Li"]),
    ],
)
def test_matching_is_whole_words_in_any_case_and_any_alphabet(text: str, found: list[str]) -> None:
    terms = [
        *read.privacy.name_terms("Priya Shah"),
        *read.privacy.name_terms("Zoë Ångström"),
        *read.privacy.name_terms("Al Li"),
    ]
    pattern = read.privacy.matcher(terms)
    assert pattern is not None
    assert [match.group(0) for match in pattern.finditer(text)] == found


def test_the_map_covers_every_table_with_free_text_and_reads_columns_from_the_models() -> None:
    with_text = {
        table.name
        for table in SQLModel.metadata.sorted_tables
        if any(read.privacy.is_text(column) for column in table.columns)
    }
    mapped = set(read.privacy.WHERE_A_PERSON_APPEARS)
    # A new table with text must be placed: programme data (in the map) or not.
    assert with_text <= mapped | read.privacy.NOT_PROGRAMME_DATA
    assert not mapped & read.privacy.NOT_PROGRAMME_DATA
    for name, reach in read.privacy.WHERE_A_PERSON_APPEARS.items():
        table = SQLModel.metadata.tables[name]
        assert [column.name for column in table.primary_key.columns] == ["id"], name
        assert reach.column in table.c, name
        assert reach.parent is None or reach.parent in read.privacy.WHERE_A_PERSON_APPEARS
    # The columns come from the models, not from a list kept by hand.
    assert read.privacy.text_columns("narrative") == ("title", "body", "author")
    assert read.privacy.text_columns("stakeholder") == ("relationship_owner", "notes")
    assert "code" not in read.privacy.text_columns("programme")


def test_a_passage_is_the_text_around_the_name() -> None:
    pattern = read.privacy.matcher(read.privacy.name_terms("Priya Shah"))
    assert pattern is not None
    text = "word " * 60 + "Priya said yes. " + "more " * 60 + "Ask SHAH." + " end" * 5
    passages = read.privacy.passages(text, pattern)
    assert len(passages) == 2
    assert passages[0].startswith("…word") and passages[0].endswith("more…")
    assert "Priya said yes." in passages[0] and len(passages[0]) < 200
    assert passages[1].endswith("Ask SHAH. end end end end end")
    assert read.privacy.passages("Priya and Shah", pattern) == ["Priya and Shah"]
