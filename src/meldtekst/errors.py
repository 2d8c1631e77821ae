"""One exception type for user mistakes, so the CLI can print one line instead of a traceback."""

from __future__ import annotations


class MeldtekstError(Exception):
    """A problem the user can fix (bad file, bad column, missing model).

    The message is a single line meant for people; the CLI prints it and exits 1.
    """


class InputError(MeldtekstError):
    """Bad input data; the message names file, row and column where they are known."""

    def __init__(self, message: str, *, path: object = None, row: int | None = None, column: str | None = None):
        parts = []
        if path is not None:
            parts.append(str(path))
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column '{column}'")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.path = path
        self.row = row
        self.column = column


class ModelError(MeldtekstError):
    """A model directory or registry model that cannot be used."""
