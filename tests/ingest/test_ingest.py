"""Ingest: streaming file import with per-row reports, idempotent upserts, matching, and the on_changed hook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.vocabulary import EmailType
from ingest.files import BadRow, FileImport, import_candidates, import_responses
from ingest.ingestor import Ingestor
from ingest.records import CandidateIn, ResponseIn
from ingest.results import Conflict, Outcome
from storage.enums import ResponseType
from storage.models import Campaign, CampaignResponse, Candidate, CandidateEmail, SearchCandidate
from storage.repositories import CandidateRepository, ensure_workspace

SAMPLES = Path(__file__).parents[2] / "bot" / "samples"

HEADER = "source_id,first_name,last_name,email,work_email,linkedin_url,title,campaign,response\n"
MIXED_CSV = (
    HEADER
    + "c1,Ada,Lovelace,ada@example.com,,,Engineer,Outreach,interested\n"  # line 2: good
    + "c2,,Nameless,nameless@example.com,,,,,\n"  # line 3: missing first name
    + "c3,Eve,Bad,eve@,,,,,\n"  # line 4: invalid email
    + "c4,Mal,Type,mal@example.com,,,,Outreach,thrilled\n"  # line 5: unknown response type
    + "c5,Lin,Kedin,,,linkedin.com/in/Lin-Kedin/,,,\n"  # line 6: good, no email (Reachout on LinkedIn)
    + '"c6","Multi\nLine",Name,,multi@example.com,,,,\n'  # lines 7-8: good, quoted newline
    + "c7,Too,Many,t@example.com,,,,,,extra,values\n"  # line 9: too many values
    + "\n"  # line 10: blank, skipped
    + "c8,Grace,Hopper,GRACE@Example.com ,,,,Outreach,Not interested\n"  # line 11: good
)


class Recorder:
    """A fake on_changed hook that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[int]]] = []

    def __call__(self, team_id: str, candidate_ids) -> None:
        self.calls.append((team_id, list(candidate_ids)))

    @property
    def ids(self) -> set[int]:
        return {i for _, ids in self.calls for i in ids}


def run_import(sessions, path: Path, *, search="Backend", team="T1", batch_size=1000, on_changed=None):
    bad: list[BadRow] = []
    run = FileImport(sessions, team, batch_size=batch_size, on_changed=on_changed, on_bad_row=bad.append)
    summary = import_candidates(run, path, search)
    return summary, bad


def candidates_by_source(session, team="T1") -> dict[str, Candidate]:
    repo = CandidateRepository(session, team)
    return {c.source_id: repo.get_with_emails(c.id) for c in repo.list()}


def test_mixed_csv_imports_good_rows_and_reports_bad_ones_by_line(sessions, tmp_path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED_CSV)
    summary, bad = run_import(sessions, path)

    assert {row.line: str(row) for row in bad}.keys() == {3, 4, 5, 9}
    reasons = {row.line: str(row) for row in bad}
    assert "first_name: is required" in reasons[3]
    assert "email: 'eve@' is not a valid email address" in reasons[4]
    assert "response:" in reasons[5] and "'interested'" in reasons[5]
    assert "11 values but the header names 9 columns" in reasons[9]
    assert (summary.created, summary.updated, summary.unchanged, summary.bad) == (4, 0, 0, 4)
    assert summary.rows == 8  # every non-blank data row is accounted for: nothing lost

    with sessions() as session:
        found = candidates_by_source(session)
        assert set(found) == {"c1", "c5", "c6", "c8"}
        assert [(e.address, e.type) for e in found["c1"].emails] == [("ada@example.com", EmailType.PRIMARY)]
        assert (
            found["c5"].emails == [] and found["c5"].linkedin_url == "https://www.linkedin.com/in/lin-kedin"
        )
        assert found["c6"].first_name == "Multi\nLine"
        assert [(e.address, e.type) for e in found["c6"].emails] == [("multi@example.com", EmailType.WORK)]
        assert [e.address for e in found["c8"].emails] == ["grace@example.com"]
        types = session.scalars(select(CampaignResponse.type).order_by(CampaignResponse.id)).all()
        assert types == [ResponseType.INTERESTED, ResponseType.NOT_INTERESTED]
        assert session.scalar(select(func.count()).select_from(SearchCandidate)) == 4


def test_mixed_jsonl_imports_good_rows_and_reports_bad_ones_by_line(sessions, tmp_path) -> None:
    lines = [
        {"source_id": 101, "first_name": "Ada", "email": "ada@example.com", "work_email": "ada@corp.example"},
        "{not json",
        ["a", "list"],
        {"source_id": "104", "first_name": "Bob", "emial": "typo@example.com"},
        "",
        {"source_id": "106", "first_name": "Cy", "linkedin_url": "https://example.com/in/cy"},
        {
            "source_id": "107",
            "first_name": "Di",
            "personal_email": "di@example.com",
            "campaign": "C",
            "response": "out-of-office",
        },
        {"source_id": "108", "first_name": "Ed", "response": "maybe"},
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    summary, bad = run_import(sessions, path)

    reasons = {row.line: str(row) for row in bad}
    assert set(reasons) == {2, 3, 6, 8}
    assert "is not valid JSON" in reasons[2]
    assert "is not a JSON object" in reasons[3]
    assert "linkedin_url:" in reasons[6] and "not a LinkedIn profile URL" in reasons[6]
    assert "response: needs the campaign" in reasons[8]
    # An unknown column in a file is ignored (and reported once), not a reason to drop the row.
    assert summary.ignored_columns == ["emial"]
    assert (summary.created, summary.bad) == (3, 4)
    with sessions() as session:
        found = candidates_by_source(session)
        assert set(found) == {"101", "104", "107"}
        assert [(e.address, e.type) for e in found["101"].emails] == [
            ("ada@example.com", EmailType.PRIMARY),
            ("ada@corp.example", EmailType.WORK),
        ]
        assert session.scalar(select(CampaignResponse.type)) == ResponseType.OUT_OF_OFFICE


def _snapshot(session) -> list[tuple]:
    cands = session.execute(select(Candidate.id, Candidate.updated_at).order_by(Candidate.id)).all()
    emails = session.execute(
        select(CandidateEmail.id, CandidateEmail.updated_at).order_by(CandidateEmail.id)
    ).all()
    counts = [
        session.scalar(select(func.count()).select_from(t))
        for t in (SearchCandidate, Campaign, CampaignResponse)
    ]
    return [tuple(cands), tuple(emails), tuple(counts)]


def test_reimporting_the_same_file_changes_nothing(sessions, tmp_path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED_CSV)
    hook = Recorder()
    run_import(sessions, path, on_changed=hook)
    assert len(hook.ids) == 4  # new candidates are handed to the export engine
    with sessions() as session:
        before = _snapshot(session)

    again = Recorder()
    summary, _bad = run_import(sessions, path, on_changed=again)

    assert (summary.created, summary.updated, summary.unchanged, summary.bad) == (0, 0, 4, 4)
    assert again.calls == []
    with sessions() as session:
        assert _snapshot(session) == before  # no new rows, no updated_at churn


def test_a_changed_email_updates_the_candidate_and_is_handed_on(sessions, tmp_path) -> None:
    first = tmp_path / "first.csv"
    first.write_text(HEADER + "c1,Ada,L,ada@old.example,,,,,\nc2,Lin,K,,,linkedin.com/in/lin,,,\n")
    run_import(sessions, first)
    with sessions() as session:
        ids = {c.source_id: c.id for c in candidates_by_source(session).values()}

    second = tmp_path / "second.csv"
    # c1's primary email changes; c2 (Reachout on LinkedIn: no email) gets one; a title-only change is no news.
    second.write_text(HEADER + "c1,Ada,L,ada@new.example,,,CTO,,\nc2,Lin,K,,lin@work.example,,,,\n")
    hook = Recorder()
    summary, bad = run_import(sessions, second, on_changed=hook)

    assert bad == [] and (summary.updated, summary.created) == (2, 0)
    assert hook.calls == [("T1", sorted([ids["c1"], ids["c2"]]))]
    with sessions() as session:
        found = candidates_by_source(session)
        assert [e.address for e in found["c1"].emails] == ["ada@new.example"]
        assert found["c1"].title == "CTO"
        assert [(e.address, e.type) for e in found["c2"].emails] == [("lin@work.example", EmailType.WORK)]


def test_the_same_person_never_becomes_two(session) -> None:
    ensure_workspace(session, "T1")
    ingestor = Ingestor(session, "T1")
    search, _ = ingestor.catalog.upsert_search("Backend")
    other, _ = ingestor.catalog.upsert_search("Frontend")
    first = ingestor.upsert_candidate(
        search, CandidateIn(first_name="Ada", email="ada@example.com", linkedin_url="linkedin.com/in/ada")
    )
    # By email (normalised), adopting the source id the first import did not have.
    by_email = ingestor.upsert_candidate(
        other, CandidateIn(source_id="s1", first_name="Ada", email=" ADA@example.com")
    )
    # By LinkedIn URL in another spelling.
    by_url = ingestor.upsert_candidate(
        search, CandidateIn(first_name="Ada", linkedin_url="https://www.LinkedIn.com/in/ADA/?trk=x")
    )
    # By source id, even with a different email.
    by_id = ingestor.upsert_candidate(
        search, CandidateIn(source_id="s1", first_name="Ada", email="ada@new.example")
    )
    assert first.row is by_email.row is by_url.row is by_id.row
    assert (first.outcome, by_email.outcome, by_url.outcome) == (
        Outcome.CREATED,
        Outcome.UPDATED,
        Outcome.UNCHANGED,
    )
    ingestor.finish()
    assert session.scalar(select(func.count()).select_from(Candidate)) == 1
    # Another source id claiming the same email is refused rather than merged or duplicated.
    with pytest.raises(Conflict) as caught:
        ingestor.upsert_candidate(
            search, CandidateIn(source_id="s2", first_name="Imp", email="ada@new.example")
        )
    assert caught.value.field == "source_id"
    # Workspaces never share candidates.
    ensure_workspace(session, "T2")
    theirs = Ingestor(session, "T2")
    created = theirs.upsert_candidate(
        theirs.catalog.upsert_search("Backend")[0], CandidateIn(source_id="s1", first_name="A")
    )
    theirs.finish()
    assert created.outcome is Outcome.CREATED and created.row.id != first.row.id


def test_emails_move_between_types_and_can_be_removed(session) -> None:
    ensure_workspace(session, "T1")
    ingestor = Ingestor(session, "T1")
    search, _ = ingestor.catalog.upsert_search("S")
    done = ingestor.upsert_candidate(
        search, CandidateIn(source_id="x", first_name="A", email="a@example.com", work_email="b@example.com")
    )
    ingestor.finish()
    repo = CandidateRepository(session, "T1")
    swap = {EmailType.PRIMARY: "b@example.com", EmailType.WORK: "a@example.com"}
    assert ingestor.update_emails(done.row, swap) is Outcome.UPDATED
    ingestor.finish()
    session.expire_all()
    assert sorted((e.type, e.address) for e in repo.get_with_emails(done.row.id).emails) == [
        (EmailType.PRIMARY, "b@example.com"),
        (EmailType.WORK, "a@example.com"),
    ]
    assert ingestor.update_emails(done.row, {EmailType.WORK: None}) is Outcome.UPDATED
    assert ingestor.update_emails(done.row, {EmailType.WORK: None}) is Outcome.UNCHANGED
    ingestor.finish()
    session.expire_all()
    assert [e.address for e in repo.get_with_emails(done.row.id).emails] == ["b@example.com"]


def test_batches_commit_as_they_go_and_each_notifies(sessions, tmp_path) -> None:
    path = tmp_path / "five.csv"
    path.write_text(HEADER + "".join(f"c{i},N{i},L,n{i}@example.com,,,,,\n" for i in range(5)))
    hook = Recorder()
    summary, _ = run_import(sessions, path, batch_size=2, on_changed=hook)
    assert summary.created == 5
    assert [len(ids) for _, ids in hook.calls] == [2, 2, 1]


def test_a_failing_hook_does_not_undo_the_import(sessions, tmp_path) -> None:
    path = tmp_path / "one.csv"
    path.write_text(HEADER + "c1,Ada,L,ada@example.com,,,,,\n")

    def broken(team_id, ids) -> None:
        raise RuntimeError("engine down")

    summary, _ = run_import(sessions, path, on_changed=broken)
    assert summary.created == 1
    with sessions() as session:
        assert set(candidates_by_source(session)) == {"c1"}


def test_responses_import_reports_bad_rows_and_is_idempotent(sessions, tmp_path) -> None:
    cands = tmp_path / "c.csv"
    cands.write_text(HEADER + "c1,Ada,L,ada@example.com,,,,,\nc2,Lin,K,,,linkedin.com/in/lin,,,\n")
    run_import(sessions, cands, search="Backend")
    responses = tmp_path / "r.csv"
    responses.write_text(
        "source_id,search,campaign,candidate_id,email,linkedin_url,type\n"
        "r1,Backend,Outreach,c1,,,interested\n"  # 2 good
        "r2,Backend,Outreach,,,https://www.linkedin.com/in/lin,Not interested\n"  # 3 good
        "r3,Backend,Outreach,c1,,,ecstatic\n"  # 4 unknown type
        "r4,Backend,Outreach,nobody,,,maybe\n"  # 5 unknown candidate
        "r5,Nowhere,Outreach,c1,,,maybe\n"  # 6 unknown search
        "r6,Backend,,c1,,,maybe\n"  # 7 no campaign
        ",Backend,Outreach,,ada@example.com,,maybe\n"  # 8 good, no id: keyed by campaign+candidate+type
    )

    def run(on_changed=None):
        bad: list[BadRow] = []
        summary = import_responses(
            FileImport(sessions, "T1", on_changed=on_changed, on_bad_row=bad.append), responses
        )
        return summary, {row.line: str(row) for row in bad}

    hook = Recorder()
    summary, reasons = run(hook)
    assert (summary.created, summary.bad) == (3, 4)
    assert set(reasons) == {4, 5, 6, 7}
    assert "type:" in reasons[4] and "'not_interested'" in reasons[4]
    assert "candidate_id: there is no candidate with id 'nobody'" in reasons[5]
    assert "search: there is no search called 'Nowhere'" in reasons[6]
    assert "campaign:" in reasons[7]
    assert len(hook.ids) == 2

    again = Recorder()
    summary, _ = run(again)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 3)
    assert again.calls == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CampaignResponse)) == 3
        assert session.scalar(select(func.count()).select_from(Campaign)) == 1


def test_a_response_id_seen_again_updates_its_type(session) -> None:
    ensure_workspace(session, "T1")
    ingestor = Ingestor(session, "T1")
    search, _ = ingestor.catalog.upsert_search("S")
    ingestor.upsert_candidate(search, CandidateIn(source_id="c1", first_name="A"))
    record = {"source_id": "r1", "campaign_id": "camp-1", "candidate_id": "c1"}
    assert ingestor.upsert_response(search, ResponseIn(**record, type="maybe")).outcome is Outcome.CREATED
    assert ingestor.upsert_response(search, ResponseIn(**record, type="maybe")).outcome is Outcome.UNCHANGED
    assert (
        ingestor.upsert_response(search, ResponseIn(**record, type="interested")).outcome is Outcome.UPDATED
    )
    assert session.scalars(select(CampaignResponse.type)).all() == [ResponseType.INTERESTED]
    other, _ = ingestor.catalog.upsert_search("Other")
    with pytest.raises(Conflict):  # a campaign id belongs to one search
        ingestor.upsert_response(other, ResponseIn(**record, type="maybe"))


def test_the_sample_files_import_cleanly(sessions) -> None:
    for name, search in (("candidates.csv", "Backend engineers"), ("candidates.jsonl", "Platform")):
        summary, bad = run_import(sessions, SAMPLES / name, search=search)
        assert bad == [] and summary.created > 0
    bad: list[BadRow] = []
    summary = import_responses(FileImport(sessions, "T1", on_bad_row=bad.append), SAMPLES / "responses.csv")
    assert [str(b) for b in bad] == [] and summary.created == 3
