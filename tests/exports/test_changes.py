"""What happens when candidates changed (`exports.changes`): the one policy of the ingest API and the importer."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.changes import changes_to
from core.vocabulary import Vendor
from exports.changes import candidates_changed
from ingest.files import BadRow, FileImport, import_candidates
from storage.models import Candidate
from storage.states import ExportState

HEADER = "source_id,first_name,last_name,email,work_email,linkedin_url,title,campaign,response\n"


def test_an_imported_email_releases_a_reachout_candidate_through_the_engine(make_world, tmp_path) -> None:
    world = make_world(Vendor.GREENHOUSE)
    link = world.link()
    engine = world.engine()
    first = tmp_path / "first.csv"
    first.write_text(HEADER + "c1,Lin,K,,,linkedin.com/in/lin,,,\n")
    bad: list[BadRow] = []

    def run(path: Path) -> None:
        hook = changes_to(engine, lambda fn, *args: fn(*args))  # as `scaleup import` wires it
        importer = FileImport(world.sessions, world.team_id, on_changed=hook, on_bad_row=bad.append)
        import_candidates(importer, path, "Backend engineers")

    run(first)  # the new candidate is handed to the engine at once: no email, so Reachout on LinkedIn
    with world.sessions() as session:
        [candidate_id] = session.scalars(select(Candidate.id).where(Candidate.team_id == world.team_id))
    assert world.export_row(candidate_id, link).state == ExportState.REACHOUT_ON_LINKEDIN

    second = tmp_path / "second.csv"
    second.write_text(HEADER + "c1,Lin,K,,lin@example.org,linkedin.com/in/lin,,,\n")
    run(second)
    assert bad == []
    # Released and exported by the import itself (a small change on an automatic link), not by a later pass.
    assert world.export_row(candidate_id, link).state == ExportState.EXPORTED
    assert world.created("lin@example.org") == 1


def test_a_small_change_is_exported_at_once_a_large_one_is_left_to_the_worker(make_world) -> None:
    world = make_world(Vendor.GREENHOUSE)
    link = world.link()
    engine = world.engine()
    few = [world.add_candidate([f"few{n}@example.org"]) for n in range(2)]
    many = [world.add_candidate([f"many{n}@example.org"]) for n in range(4)]

    assert candidates_changed(engine, world.team_id, few, limit=3) == 2
    assert candidates_changed(engine, world.team_id, many, limit=3) == 0

    assert [world.export_row(c, link).state for c in few] == [ExportState.EXPORTED] * 2
    assert [world.export_row(c, link).state for c in many] == [ExportState.PENDING] * 4
    assert world.created("many0@example.org") == 0


def test_a_manual_link_waits_for_a_recruiter(make_world) -> None:
    world = make_world(Vendor.GREENHOUSE)
    link = world.link(mode="manual")
    candidate = world.add_candidate(["waits@example.org"])

    assert candidates_changed(world.engine(), world.team_id, [candidate]) == 0
    assert world.export_row(candidate, link).state == ExportState.PENDING
