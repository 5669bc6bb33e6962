"""The one exception that bad input files and bad alias files raise."""

from __future__ import annotations

from pathlib import Path

# Long enough to recognise the value, short enough that a 10 MB field cannot flood a log line.
GOT_MAX_CHARS = 60


def shorten(value: str, limit: int = GOT_MAX_CHARS) -> str:
    """Cut a value from a file down to a length that is safe to show in a message."""
    if len(value) <= limit:
        return value
    return value[:limit] + f"… ({len(value):,} characters)"


class IngestError(Exception):
    """A file cannot be ingested; the message says where, what was expected and what was found.

    `got` is kept shortened; it is shown with repr() so control characters, bidi overrides and
    the like are escaped instead of being printed into a terminal or a log.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        line: int | None = None,
        field: str | None = None,
        expected: str | None = None,
        got: str | None = None,
        problem: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        self.expected = expected
        self.got = None if got is None else shorten(got)
        self.problem = problem
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        where = [self.path.name or str(self.path)]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        text = ", ".join(where) + ": " + self.finding()
        if self.hint:
            text += f". {self.hint}"
        return text

    def finding(self) -> str:
        """What is wrong, without where: the problem, then what was expected and what was found."""
        what = []
        if self.problem:
            what.append(self.problem)
        if self.expected is not None:
            found = "" if self.got is None else f", got {self.got!r}"
            what.append(f"expected {self.expected}{found}")
        return "; ".join(what)


class AliasFileError(IngestError):
    """An alias table (shipped or user-edited) is malformed."""
