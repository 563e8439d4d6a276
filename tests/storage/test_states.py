"""Every transition outside the one table is refused, in memory and through the repository."""

from __future__ import annotations

import itertools

import pytest

from core.vocabulary import Vendor
from storage.export_repository import ExportRepository
from storage.models import Candidate, Link, Search
from storage.repositories import ConnectionRepository, ensure_workspace
from storage.states import TRANSITIONS, ExportState, IllegalTransition, check_transition

ALL = [None, *ExportState]


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ALL, ExportState)))
def test_transition_table_is_enforced(current, target) -> None:
    if target in TRANSITIONS[current]:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(current, target)


def test_final_states_only_leave_through_retry_options_or_undo() -> None:
    assert TRANSITIONS[ExportState.EXPORTED] == {ExportState.UNDONE}, "an exported record only leaves by Undo"
    assert TRANSITIONS[ExportState.DUPLICATE] == frozenset()
    assert TRANSITIONS[ExportState.FAILED] == {ExportState.PENDING}
    assert TRANSITIONS[ExportState.UNDONE] == {ExportState.PENDING}, "only a person exports it again"


def _link(session, secret_box, team="T1") -> tuple[Link, Candidate]:
    ensure_workspace(session, team)
    conn = ConnectionRepository(session, team).save(
        secret_box, vendor=Vendor.GREENHOUSE, secrets={"client_secret": "s"}, fields={}, base_url=None
    )
    search = Search(team_id=team, name="Backend")
    cand = Candidate(team_id=team, first_name="Ada", last_name="Lovelace")
    session.add_all([search, cand])
    session.flush()
    link = Link(team_id=team, search_id=search.id, connection_id=conn.id, job_id="1")
    session.add(link)
    session.flush()
    return link, cand


def test_repository_refuses_illegal_transition_and_records_legal_ones(session, secret_box) -> None:
    link, cand = _link(session, secret_box)
    exports = ExportRepository(session, "T1")
    export = exports.create(link_id=link.id, candidate_id=cand.id, state=ExportState.PENDING, actor="test")
    with pytest.raises(IllegalTransition):
        exports.transition(export, ExportState.EXPORTED, actor="test")
    assert export.state is ExportState.PENDING

    exports.transition(export, ExportState.EXPORTING, actor="test")
    exports.transition(export, ExportState.EXPORTED, actor="test", ats_candidate_id="99")
    session.commit()
    history = [(e.from_state, e.to_state) for e in exports.events(export.id)]
    assert history == [
        (None, ExportState.PENDING),
        (ExportState.PENDING, ExportState.EXPORTING),
        (ExportState.EXPORTING, ExportState.EXPORTED),
    ]
    with pytest.raises(IllegalTransition):
        exports.transition(export, ExportState.PENDING, actor="test")
    counts = exports.count_by_state(link.id)
    assert counts[ExportState.EXPORTED] == 1 and sum(counts.values()) == 1
