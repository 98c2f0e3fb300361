"""The error a reader raises for a file it cannot read (names file, row and column)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DataReadError(Exception):
    """A file cannot be read; names the file and, where known, the row and column."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"
