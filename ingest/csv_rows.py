"""Read CSV rows strictly: a broken quote costs one row, never the rest of the file.

Python's `csv` module lets a quoted field run across lines (addresses and notes hold line breaks), so one
unclosed quote swallows every line after it into a single field. Here a record is assembled line by line
with the quoting rules of the default dialect; a quoted field still open after `MAX_FIELD_LINES` lines, or
at the end of the file, is reported as a bad row on the line where it opened, and the lines after that one
are read again as rows of their own. Every physical line is accounted for (`LineTally`): the header, blank
lines and the lines of each row add up to the lines read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ScaleUpError
from ingest.records import FieldProblem

#: The most lines one quoted field may span before its quote is taken as never closed.
MAX_FIELD_LINES = 100
#: Separators recognised in a header when none is given (`--delimiter`).
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
QUOTE = '"'

Row = tuple[int, dict[str, Any] | FieldProblem]


class HeaderProblem(ScaleUpError):
    """The file's header cannot be used: said once, before any row is read."""


@dataclass
class LineTally:
    """Where each physical line of the file went; `accounted` equals `lines` once the file is read."""

    lines: int = 0
    header: int = 0
    blank: int = 0
    row_lines: int = 0

    @property
    def accounted(self) -> int:
        return self.header + self.blank + self.row_lines


def header_name(name: str, aliases: Mapping[str, str]) -> str:
    """Return a header cell as a field name: lower case, words joined by `_`, known aliases applied."""
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return aliases.get(key, key)


def read_csv(
    text: io.TextIOBase,
    aliases: Mapping[str, str],
    tally: LineTally,
    *,
    required: Collection[str] = (),
    delimiter: str | None = None,
) -> Iterator[Row]:
    """Yield (first line, row as a dict) per data row; a row that cannot be read yields a problem instead.

    Raises:
        HeaderProblem: the header lacks a `required` column (before any row is yielded).
    """
    lines = _Lines(text, tally)
    first = lines.next()
    if first is None:
        return
    tally.header = 1
    delimiter = delimiter or sniff_delimiter(first[1])
    try:
        header = [header_name(h, aliases) for h in _split([first[1]], delimiter)]
    except csv.Error as exc:
        raise HeaderProblem(
            f"the header (line 1) cannot be read as CSV ({exc})", hint="Fix the quotes in the first line."
        ) from None
    _check_header(header, required, first[1], delimiter)
    while (record := _record(lines, delimiter)) is not None:
        start, parts = record
        if isinstance(parts, FieldProblem):
            tally.row_lines += 1
            yield start, parts
            continue
        try:
            values = _split(parts, delimiter)
        except csv.Error as exc:
            tally.row_lines += len(parts)
            yield start, FieldProblem("", f"cannot be read as CSV ({exc})")
            continue
        joined = "".join(values)
        if not joined or joined.isspace():  # every value blank
            tally.blank += len(parts)
            continue
        tally.row_lines += len(parts)
        if len(values) > len(header):
            yield (
                start,
                FieldProblem("", f"has {len(values)} values but the header names {len(header)} columns"),
            )
            continue
        if len(values) < len(
            header
        ):  # a short row leaves its trailing columns empty (spreadsheets drop them)
            values += [""] * (len(header) - len(values))
        yield start, dict(zip(header, values, strict=True))


def sniff_delimiter(header_line: str) -> str:
    """Return the separator a header line uses: a comma unless it has none and another one appears."""
    if "," in header_line:
        return ","
    counts = {d: header_line.count(d) for d in DELIMITERS if d != ","}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _check_header(header: list[str], required: Collection[str], raw: str, delimiter: str) -> None:
    missing = [name for name in required if name not in header]
    if not missing:
        return
    shown = ", ".join(h for h in header if h)[:300] or "nothing"
    hint = "Name the columns in the first line (see README, 'Importing candidates')."
    if len(header) == 1:
        others = [name for d, name in DELIMITERS.items() if d != delimiter and d in raw]
        hint = (
            f"The header reads as one column: if the file uses {' or '.join(others) or 'another separator'} "
            "between columns, pass --delimiter."
        )
    raise HeaderProblem(f"the header has no {', '.join(missing)} column (it names: {shown})", hint=hint)


def _split(parts: list[str], delimiter: str) -> list[str]:
    if len(parts) == 1 and QUOTE not in parts[0]:
        return parts[0].rstrip("\r\n").split(delimiter)  # what csv does with a line without quotes, faster
    return next(csv.reader(parts, delimiter=delimiter, strict=True), [])


class _Lines:
    """The file's physical lines, numbered, with lines pushed back to be read again."""

    def __init__(self, text: io.TextIOBase, tally: LineTally) -> None:
        self._numbered = enumerate(text, start=1)
        self._again: list[tuple[int, str]] = []
        self._tally = tally

    def next(self) -> tuple[int, str] | None:
        if self._again:
            return self._again.pop()
        item = next(self._numbered, None)
        if item is not None:
            self._tally.lines = item[0]
        return item

    def read_again(self, lines: list[tuple[int, str]]) -> None:
        self._again.extend(reversed(lines))


def _record(lines: _Lines, delimiter: str) -> tuple[int, list[str] | FieldProblem] | None:
    """Return the next record's first line and its physical lines, or a problem for a broken quote."""
    first = lines.next()
    if first is None:
        return None
    start, line = first
    if QUOTE not in line:
        return start, [line]
    group = [first]
    state = _scan(line, _Quoting(), delimiter)
    while state.open and len(group) < MAX_FIELD_LINES:
        following = lines.next()
        if following is None:
            break
        group.append(following)
        state = _scan(following[1], state, delimiter)
    if not state.open:
        return start, [text for _, text in group]
    end = f"within {MAX_FIELD_LINES} lines" if len(group) >= MAX_FIELD_LINES else "before the end of the file"
    lines.read_again(group[1:])  # the lines after the broken one are rows of their own
    return start, FieldProblem(
        "", f'has a quote (") that is not closed {end}; the lines after it were read on'
    )


@dataclass
class _Quoting:
    open: bool = False
    field_start: bool = True


def _scan(line: str, state: _Quoting, delimiter: str) -> _Quoting:
    """Follow the default dialect's quoting through `line`: is a quoted field still open at its end?"""
    open_, field_start = state.open, state.field_start
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if open_:
            if char == QUOTE:
                if i + 1 < n and line[i + 1] == QUOTE:
                    i += 2
                    continue
                open_ = False
        elif char == QUOTE and field_start:
            open_, field_start = True, False
        else:
            field_start = char in (delimiter, "\r", "\n")
        i += 1
    return _Quoting(open_, field_start)
