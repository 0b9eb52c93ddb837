"""What validation reports: one `Problem` per broken promise of the data contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


class ContractError(ValueError):
    """A source breaks the data contract; `problems` lists every way it does."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) with the data contract:\n{lines}")
