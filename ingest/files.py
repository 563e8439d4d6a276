"""Import candidates and campaign responses from CSV or JSON Lines files, streaming.

Rows are read lazily and stored in batches (one transaction per batch, set-based: `ingest.candidates`), so
memory stays flat however long the file is. A bad row (invalid email, missing name, unknown response type,
...) is reported with its line number and reason through `on_bad_row` while the good rows around it are
imported; it never stops the import. Rows are checked before anything of them is written (see `Ingestor`), so a bad
row leaves nothing behind without the cost of a savepoint per row.
"""

from __future__ import annotations

import gc
import io
import itertools
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.bulk_sql import import_cache
from ingest.csv_rows import LineTally, Row, header_name, read_csv
from ingest.ingestor import Ingestor
from ingest.records import CandidateIn, FieldProblem, ResponseRow, parse
from ingest.results import IngestError, OnChanged, Outcome, notify
from storage.db import unit_of_work
from storage.repositories import ensure_workspace
from storage.statistics import ImportStatistics

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 5_000

#: Other spellings of column names seen in exports of sourcing tools.
CANDIDATE_ALIASES = {
    "id": "source_id",
    "candidate_id": "source_id",
    "primary_email": "email",
    "linkedin": "linkedin_url",
    "response_type": "response",
}
RESPONSE_ALIASES = {"id": "source_id", "response": "type", "response_type": "type", "search_name": "search"}


class FileFormat(StrEnum):
    """Supported input formats."""

    CSV = "csv"
    JSONL = "jsonl"

    @classmethod
    def of(cls, path: Path) -> FileFormat:
        """Return the format the file's extension names, or raise ValueError."""
        suffix = path.suffix.lower().lstrip(".")
        if suffix in ("csv", "txt"):
            return cls.CSV
        if suffix in ("jsonl", "ndjson", "json"):
            return cls.JSONL
        raise ValueError(
            f"cannot tell the format of {path.name} from its extension; pass --format csv or jsonl"
        )


class Encoding(StrEnum):
    """Text encodings a file may be read in (`--encoding`): UTF-8 with or without a BOM, or Excel's."""

    UTF8 = "utf-8"
    CP1252 = "cp1252"
    LATIN1 = "latin-1"


@dataclass(frozen=True)
class BadRow:
    """A row that was not imported: where it is and why."""

    line: int
    problems: tuple[FieldProblem, ...]

    def __str__(self) -> str:
        return f"line {self.line}: " + "; ".join(str(p) for p in self.problems)


@dataclass
class ImportSummary:
    """Counts of what an import did; the bad rows themselves go to `on_bad_row` as they are found."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    #: Where every physical line of the file went (header, blank, rows): they add up to the lines read.
    lines: LineTally = field(default_factory=LineTally)

    @property
    def rows(self) -> int:
        """Return how many rows were read."""
        return self.created + self.updated + self.unchanged + self.bad

    @property
    def stored(self) -> int:
        """Return how many rows wrote something (what grows the tables: a file imported again adds nothing)."""
        return self.created + self.updated


@dataclass(frozen=True)
class Progress:
    """How far the reader is in the file."""

    bytes_read: int
    total_bytes: int
    rows: int


@dataclass
class _Source:
    """A file opened for streaming, with its byte position for the progress bar."""

    raw: io.BufferedReader
    text: io.TextIOWrapper

    @classmethod
    def open(cls, path: Path, encoding: Encoding) -> _Source:
        raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        # utf-8-sig drops the BOM spreadsheet programs write; undecodable bytes become surrogates, which the
        # record rules reject per row ("is not valid UTF-8 text") instead of aborting the whole file.
        name = "utf-8-sig" if encoding is Encoding.UTF8 else encoding.value
        text = io.TextIOWrapper(raw, encoding=name, errors="surrogateescape", newline="")
        return cls(raw, text)

    def position(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.text.close()


@dataclass
class _Batch:
    """Rows read and checked together: the valid records and the bad rows, with their line numbers."""

    records: list[tuple[int, Any]] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    position: int = 0  # bytes of the file read once the batch was
    last: bool = False  # the file ends with this batch


#: Stores a batch's validated records with its ingestor; says what it did with each, in order.
Store = Callable[[Ingestor, list[Any]], list[Outcome | IngestError]]


def read_jsonl(
    text: io.TextIOBase, aliases: Mapping[str, str], tally: LineTally, **_csv_only: Any
) -> Iterator[Row]:
    """Yield (line number, object) for each non-blank line; a line that is not a JSON object yields a problem."""
    for line, content in enumerate(text, start=1):
        tally.lines = line
        if not content.strip():
            tally.blank += 1
            continue
        tally.row_lines += 1
        try:
            data = json.loads(content)
        except ValueError as exc:
            yield line, FieldProblem("", f"is not valid JSON ({exc})")
            continue
        if not isinstance(data, dict):
            yield line, FieldProblem("", "is not a JSON object")
            continue
        yield line, {header_name(str(k), aliases): v for k, v in data.items()}


class FileImport:
    """One import run: reads rows, validates each as `model`, stores it with `store`, commits per batch."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        team_id: str,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_changed: OnChanged | None = None,
        on_bad_row: Callable[[BadRow], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        encoding: Encoding = Encoding.UTF8,
        delimiter: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.team_id = team_id
        self.encoding = encoding
        self.delimiter = delimiter  # CSV only; None: from the header line (`csv_rows.sniff_delimiter`)
        self.batch_size = batch_size
        self.on_changed = on_changed
        self.on_bad_row = on_bad_row or (lambda row: None)
        self.on_progress = on_progress or (lambda progress: None)
        self.summary = ImportSummary()

    def run(
        self,
        path: Path,
        fmt: FileFormat | None,
        model: type[BaseModel],
        aliases: Mapping[str, str],
        store: Store,
    ) -> ImportSummary:
        """Import every row of `path`; return the counts.

        Raises:
            HeaderProblem: the CSV header lacks a column the records need (nothing was imported).
        """
        fmt = fmt or FileFormat.of(path)
        total = path.stat().st_size
        source = _Source.open(path, self.encoding)
        try:
            reader = read_csv if fmt is FileFormat.CSV else read_jsonl
            required = [name for name, f in model.model_fields.items() if f.is_required()]
            read = reader(
                source.text, aliases, self.summary.lines, required=required, delimiter=self.delimiter
            )
            rows = self._known_columns(read, model)
            first = next(rows, None)  # the header is checked before anything is written
            if first is not None:
                with unit_of_work(self.sessions) as session:
                    ensure_workspace(session, self.team_id)
                rows = itertools.chain([first], rows)
                statistics = ImportStatistics(self.sessions)  # PostgreSQL's plans follow the tables' growth
                # What is alive now (the app's modules and objects) stays alive: leave it out of the garbage
                # collector's passes, which a million rows' worth of short-lived objects would otherwise
                # make traverse it over and over (a tenth of the import's time).
                gc.freeze()
                try:
                    while True:
                        batch = self._read(rows, model, source)
                        self._store_batch(batch, store, statistics, total)
                        if batch.last:
                            break
                finally:
                    gc.unfreeze()
                statistics.stored(self.summary.stored)
        finally:
            source.close()
        self.on_progress(Progress(total, total, self.summary.rows))
        return self.summary

    def _known_columns(self, rows: Iterator[Row], model: type[BaseModel]) -> Iterator[Row]:
        """Drop columns the model does not know, noting them once, so extra spreadsheet columns are harmless."""
        known = set(model.model_fields)
        ignored: set[str] = set()
        for line, data in rows:
            if isinstance(data, dict) and not known.issuperset(data):
                extra = data.keys() - known
                if extra - ignored:
                    ignored |= extra
                    self.summary.ignored_columns = sorted(ignored)
                    log.info("Ignoring unknown column(s): %s", ", ".join(sorted(extra)))
                data = {k: v for k, v in data.items() if k in known}
            yield line, data

    def _read(self, rows: Iterator[Row], model: type[BaseModel], source: _Source) -> _Batch:
        """Read and validate up to batch_size rows."""
        batch = _Batch()
        taken = 0
        for line, data in islice(rows, self.batch_size):
            taken += 1
            record = parse(model, data) if isinstance(data, dict) else [data]
            if isinstance(record, list):
                batch.bad.append(BadRow(line, tuple(record)))
            else:
                batch.records.append((line, record))
        batch.position = source.position()
        batch.last = taken < self.batch_size
        return batch

    def _store_batch(self, batch: _Batch, store: Store, statistics: ImportStatistics, total: int) -> None:
        """Store a batch in one transaction, report its bad rows and the progress."""
        records, bad = batch.records, batch.bad
        try:
            self._store(records, store, bad)
        except IntegrityError as exc:
            # Another writer (the API) stored one of these records meanwhile: redo the batch a row at a time,
            # so only the row that clashes is reported.
            log.info(
                "Batch conflicted with a concurrent write (%s); storing it row by row", type(exc).__name__
            )
            for line, record in records:
                try:
                    self._store([(line, record)], store, bad)
                except IntegrityError:
                    bad.append(
                        BadRow(line, (FieldProblem("", "clashed with a concurrent write; import again"),))
                    )
        self.summary.bad += len(bad)
        for row in sorted(bad, key=lambda row: row.line):
            self.on_bad_row(row)
        statistics.stored(self.summary.stored)
        self.on_progress(Progress(batch.position, total, self.summary.rows))

    def _store(self, records: list[tuple[int, Any]], store: Store, bad: list[BadRow]) -> None:
        """Store `records` in one transaction; count them once committed, adding refused ones to `bad`."""
        with unit_of_work(self.sessions) as session:
            import_cache(session)
            ingestor = Ingestor(session, self.team_id)
            results = store(ingestor, [record for _, record in records])
            changed = ingestor.finish()
        counts = Counter(results)
        self.summary.created += counts[Outcome.CREATED]
        self.summary.updated += counts[Outcome.UPDATED]
        self.summary.unchanged += counts[Outcome.UNCHANGED]
        bad.extend(  # refused before anything of the record was written
            BadRow(line, (FieldProblem(result.field, result.message),))
            for (line, _), result in zip(records, results, strict=True)
            if isinstance(result, IngestError)
        )
        notify(self.on_changed, self.team_id, changed)


def import_candidates(
    run: FileImport, path: Path, search_name: str, fmt: FileFormat | None = None
) -> ImportSummary:
    """Import the candidates of a CSV or JSON Lines file into the search called `search_name`."""
    with unit_of_work(run.sessions) as session:
        ensure_workspace(session, run.team_id)
        search_id = Ingestor(session, run.team_id).catalog.upsert_search(search_name)[0].id

    def store(ingestor: Ingestor, records: list[CandidateIn]) -> list[Outcome | IngestError]:
        return ingestor.store_candidates(ingestor.catalog.search_by_id(search_id), records).outcomes

    return run.run(path, fmt, CandidateIn, CANDIDATE_ALIASES, store)


def import_responses(
    run: FileImport, path: Path, default_search: str | None = None, fmt: FileFormat | None = None
) -> ImportSummary:
    """Import campaign responses; each row names its search (search_id or search), else `default_search`."""

    def store_one(ingestor: Ingestor, record: ResponseRow) -> Outcome:
        if record.search_id:
            search = ingestor.catalog.search_by_source_id(record.search_id)
        elif record.search or default_search:
            search = ingestor.catalog.search_by_name(record.search or default_search)
        else:
            raise IngestError("search", "name the search (search or search_id column, or --search)")
        return ingestor.upsert_response(search, record).outcome

    def store(ingestor: Ingestor, records: list[ResponseRow]) -> list[Outcome | IngestError]:
        ingestor.prepare(records)
        results: list[Outcome | IngestError] = []
        for record in records:
            try:
                results.append(store_one(ingestor, record))
            except IngestError as exc:  # raised before anything of the record was written
                results.append(exc)
        return results

    return run.run(path, fmt, ResponseRow, RESPONSE_ALIASES, store)
