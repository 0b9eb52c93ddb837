"""The tables and action codes of `docs/data-contract.md`, rendered from `features.contract`.

The document keeps the prose (where tables come from, point in time, labels, the
scores output); every column-level fact sits between `<!-- generated: NAME -->`
and `<!-- end generated -->` markers and is this module's output, so the
document cannot say something validation does not check. After changing
`features/contract.py`, run `python -m features.contract_doc` to rewrite those
blocks in place (`--check` only reports whether they are stale).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from features.contract import ACTION_DESCRIPTIONS, TABLES, TYPE_NAMES, Column, Table

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"
END_MARKER = "<!-- end generated -->"
_BLOCK = re.compile(
    r"(?P<start><!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(?P<end>"
    + re.escape(END_MARKER)
    + ")",
    re.DOTALL,
)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def allowed_values(column: Column) -> str:
    """The values validation accepts besides null: the enum, with meanings, or the range."""
    if column.enum:
        return ", ".join(
            f"`{value}` ({column.value_meanings[value]})"
            if value in column.value_meanings
            else f"`{value}`"
            for value in column.enum
        )
    if column.min is not None and column.max is not None:
        return f"{_number(column.min)}-{_number(column.max)}"
    if column.min is not None:
        return f">= {_number(column.min)}"
    if column.max is not None:
        return f"<= {_number(column.max)}"
    return ""


def column_meaning(table: Table, column: Column) -> str:
    """Primary key, the table referenced and the column's own meaning, in that order."""
    parts = ["primary key"] if table.key == (column.name,) else []
    if column.references:
        parts.append(f"-> {column.references.split('.')[0]}")
    if column.meaning:
        parts.append(column.meaning)
    return "; ".join(parts)


def _rules(table: Table) -> list[str]:
    """Row rules beyond single columns: a composite key and the order of dates."""
    rules = []
    if len(table.key) > 1:
        rules.append(f"No two rows share ({', '.join(f'`{name}`' for name in table.key)}).")
    pairs = [(earlier, later, "after") for earlier, later in table.ordered]
    pairs += [(earlier, later, "not before") for earlier, later in table.not_before]
    for earlier, later, relation in pairs:
        either_null = table.column(earlier).nullable or table.column(later).nullable
        where = " where both are set" if either_null else ""
        rules.append(f"`{later}` is {relation} `{earlier}`{where}.")
    return rules


def render_table(table: Table) -> str:
    """One table's section: heading, a row per column, then its note and row rules."""
    need = "required" if table.required else "optional"
    lines = [
        f"### {table.name} — {table.description} ({need})",
        "| column | type | null | values | meaning |",
        "|---|---|---|---|---|",
    ]
    for column in table.columns:
        cells = (
            column.name,
            TYPE_NAMES[column.type],
            "yes" if column.nullable else "no",
            allowed_values(column),
            column_meaning(table, column),
        )
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    for paragraph in (table.note, " ".join(_rules(table))):
        if paragraph:
            lines += ["", paragraph]
    return "\n".join(lines) + "\n"


def render_table_sections() -> str:
    """Every contract table's section, in contract order."""
    return "\n".join(render_table(table) for table in TABLES.values())


def render_action_codes() -> str:
    """The action codes with what the CS team does for each."""
    lines = ["| code | what the CS team does |", "|---|---|"]
    lines += [f"| `{code}` | {_cell(does)} |" for code, does in ACTION_DESCRIPTIONS.items()]
    return "\n".join(lines) + "\n"


def render_blocks() -> dict[str, str]:
    """The body of each generated block of the document, by marker name."""
    return {"tables": render_table_sections(), "action-codes": render_action_codes()}


def render_tables() -> str:
    """All generated markdown: every table section, then the action-code table."""
    return "\n".join(render_blocks().values())


def generated_blocks(text: str) -> dict[str, str]:
    """The body of each generated block found in a document, by marker name."""
    return {match["name"]: match["body"] for match in _BLOCK.finditer(text)}


def update_document(text: str) -> str:
    """The document with every generated block replaced by what the contract renders now.

    Raises:
        ValueError: A marker names no known block, or a known block has no markers.
    """
    blocks = render_blocks()
    found = generated_blocks(text)
    unknown = sorted(found.keys() - blocks.keys())
    missing = sorted(blocks.keys() - found.keys())
    if unknown or missing:
        raise ValueError(
            f"generated blocks: unknown {unknown or 'none'}, missing {missing or 'none'}; "
            f"each block is '<!-- generated: NAME -->' ... '{END_MARKER}'"
        )
    return _BLOCK.sub(lambda match: match["start"] + blocks[match["name"]] + match["end"], text)


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the generated blocks of the contract document, or check them with --check."""
    parser = argparse.ArgumentParser(prog="python -m features.contract_doc", description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DOC_PATH)
    parser.add_argument("--check", action="store_true", help="exit 1 if the blocks are stale")
    args = parser.parse_args(argv)
    text = args.path.read_text(encoding="utf-8")
    updated = update_document(text)
    if updated == text:
        print(f"{args.path}: generated blocks are up to date")
        return 0
    if args.check:
        print(f"{args.path}: generated blocks are stale; run python -m features.contract_doc")
        return 1
    args.path.write_text(updated, encoding="utf-8")
    print(f"{args.path}: generated blocks rewritten from features/contract.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
