"""What validation reports: one `Problem` per broken promise of the data contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Problem:
    """One way a source breaks the data contract, specific enough to fix.

    Attributes:
        table: The contract table ("(source)" for the source as a whole).
        column: The column, or None for a problem with the whole table.
        message: What is wrong, in words a data owner understands.
        rows: How many rows are affected (0 when it is not about rows).
        examples: Up to five examples: row numbers (1-based data rows) or ids.
    """

    table: str
    column: str | None
    message: str
    rows: int = 0
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{where}: {self.message}"
        if self.rows:
            text += f" [{self.rows} row{'' if self.rows == 1 else 's'}"
            if self.examples:
                text += f"; e.g. {', '.join(self.examples[:MAX_EXAMPLES])}"
            text += "]"
        elif self.examples:
            text += f" [e.g. {', '.join(self.examples[:MAX_EXAMPLES])}]"
        return text


def first_line(error: BaseException) -> str:
    """The first line of an error message: what a user needs, without the hints."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "pipes"}


def csv_header_problem(path: str | Path, columns: Sequence[str]) -> str | None:
    """Why a CSV's header does not split into columns (another delimiter), or None."""
    if len(columns) != 1 or not str(path).lower().endswith(".csv"):
        return None
    for delimiter, name in DELIMITERS.items():
        if delimiter in columns[0]:
            found = ", ".join(columns[0].split(delimiter)[:6])
            return (
                f"{Path(path).name} is separated by {name}, not commas (header: {found}, ...): "
                "save it as comma-separated CSV"
            )
    return None


def csv_encoding_problem(path: str | Path) -> str | None:
    """Why a CSV is not UTF-8 (naming the line and the likely encoding), or None."""
    if not str(path).lower().endswith(".csv"):
        return None
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        return (
            f"{Path(path).name} is not UTF-8 (byte 0x{byte} on line {line}; it looks like "
            "Latin-1 / Windows-1252): save it as UTF-8"
        )
    return None


def file_problem(path: str | Path, error: BaseException) -> str:
    """What a user should know about a file DuckDB could not read: encoding, else the error."""
    return csv_encoding_problem(path) or f"{Path(path).name} could not be read: {first_line(error)}"


class ContractError(ValueError):
    """A source breaks the data contract; `problems` lists every way it does."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) with the data contract:\n{lines}")
