"""Exception types shared across the package.

Every error a user can fix derives from :class:`KompetensprognosError`; the CLI prints these
without a traceback. Messages name the file, column, value and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DataValidationError", "KompetensprognosError", "Problem"]


class KompetensprognosError(Exception):
    """Base class for errors caused by input or configuration, not by a bug."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input table.

    Attributes
    ----------
    file : str
        The file (or table name) the problem is in.
    column : str | None
        The column at fault, if one.
    rows : tuple[int, ...]
        Line numbers at fault as a user sees them in the file (the header is line 1, so the first
        data row is line 2); may be empty.
    values : tuple[str, ...]
        A few offending values, as text.
    message : str
        What is wrong and how to fix it.
    """

    file: str
    column: str | None
    message: str
    rows: tuple[int, ...] = ()
    values: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = self.file
        if self.column:
            where += f", column `{self.column}`"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:5])
            more = f" (+{len(self.rows) - 5} more)" if len(self.rows) > 5 else ""
            where += f", line{'s' if len(self.rows) > 1 else ''} {shown}{more}"
        text = f"{where}: {self.message}"
        if self.values:
            text += " (values: " + ", ".join(repr(v) for v in self.values[:5]) + ")"
        return text


@dataclass
class DataValidationError(KompetensprognosError):
    """Raised when a dataset fails validation; holds *every* problem found, not just the first."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found in the dataset:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])
