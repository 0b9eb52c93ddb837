"""docs/data-contract.md says what features/contract.py (what validation checks) says."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.contract import (
    ACTION_CODES,
    ACTION_DESCRIPTIONS,
    STRING,
    TABLES,
    TYPE_NAMES,
    Column,
)
from features.contract_doc import (
    DOC_PATH,
    END_MARKER,
    generated_blocks,
    main,
    render_blocks,
    render_tables,
    update_document,
)

REGENERATE = "run `python -m features.contract_doc` to regenerate docs/data-contract.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC_PATH.read_text(encoding="utf-8")


def _rows(doc: str, heading: str) -> list[list[str]]:
    """The markdown table rows (cells) of the section that starts with `heading`."""
    start = doc.index(heading)
    end = doc.find("\n#", start + len(heading))
    section = doc[start : end if end >= 0 else len(doc)]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_generated_blocks_match_the_contract(doc: str) -> None:
    found = generated_blocks(doc)
    for name, body in render_blocks().items():
        assert name in found, f"docs/data-contract.md has no '{name}' block; {REGENERATE}"
        assert found[name] == body, f"the '{name}' block is stale; {REGENERATE}"
    assert update_document(doc) == doc, REGENERATE


def test_every_table_column_and_action_code_appears(doc: str) -> None:
    for table in TABLES.values():
        need = "required" if table.required else "optional"
        heading = f"### {table.name} — {table.description} ({need})"
        assert heading in doc, f"no section for {table.name}; {REGENERATE}"
        rows = _rows(doc, heading)
        assert [row[0] for row in rows] == list(table.column_names), REGENERATE
        for row, column in zip(rows, table.columns, strict=True):
            null = "yes" if column.nullable else "no"
            assert row[1:3] == [TYPE_NAMES[column.type], null], f"{table.name}.{column.name}"
            for value in column.enum or ():
                assert f"`{value}`" in row[3], f"{table.name}.{column.name} lacks {value!r}"
    rows = _rows(doc, "## Action codes")
    assert [row[0] for row in rows] == [f"`{code}`" for code in ACTION_CODES], REGENERATE
    assert [row[1] for row in rows] == [ACTION_DESCRIPTIONS[code] for code in ACTION_CODES]


def test_the_prose_sections_stay(doc: str) -> None:
    for heading in (
        "## Where the tables come from",
        "## Tables",
        "## Point in time",
        "## Labels",
        "## Action codes",
        "## What comes out: scores",
    ):
        assert f"\n{heading}\n" in doc


def test_documentation_data_is_complete_and_consistent() -> None:
    assert tuple(ACTION_DESCRIPTIONS) == ACTION_CODES
    assert all(ACTION_DESCRIPTIONS.values())
    for table in TABLES.values():
        assert table.description, table.name
        for column in table.columns:
            assert set(column.value_meanings) <= set(column.enum or ()), column.name
    assert set(TYPE_NAMES) == {column.type for t in TABLES.values() for column in t.columns}
    assert render_tables().count("\n### ") == len(TABLES) - 1


def test_documentation_fields_do_not_change_equality() -> None:
    plain = Column("kind", STRING, enum=("a", "b"))
    documented = Column("kind", STRING, enum=("a", "b"), meaning="x", value_meanings={"a": "y"})
    assert plain == documented and hash(plain) == hash(documented)


def test_regenerating_rewrites_only_between_markers(tmp_path: Path) -> None:
    text = (
        "# Title\n\nProse before.\n\n<!-- generated: tables -->\nstale\n"
        f"{END_MARKER}\n\nProse between.\n\n<!-- generated: action-codes -->\n{END_MARKER}\n"
        "\nProse after.\n"
    )
    path = tmp_path / "contract.md"
    path.write_text(text, encoding="utf-8")
    assert main([str(path), "--check"]) == 1
    assert path.read_text(encoding="utf-8") == text
    assert main([str(path)]) == 0
    updated = path.read_text(encoding="utf-8")
    blocks = render_blocks()
    assert updated == (
        f"# Title\n\nProse before.\n\n<!-- generated: tables -->\n{blocks['tables']}"
        f"{END_MARKER}\n\nProse between.\n\n<!-- generated: action-codes -->\n"
        f"{blocks['action-codes']}{END_MARKER}\n\nProse after.\n"
    )
    assert main([str(path), "--check"]) == 0


def test_a_missing_or_unknown_block_is_an_error() -> None:
    with pytest.raises(ValueError, match="missing"):
        update_document(f"<!-- generated: tables -->\n{END_MARKER}\n")
    with pytest.raises(ValueError, match="unknown"):
        update_document(
            f"<!-- generated: tables -->\n{END_MARKER}\n<!-- generated: action-codes -->\n"
            f"{END_MARKER}\n<!-- generated: other -->\n{END_MARKER}\n"
        )
