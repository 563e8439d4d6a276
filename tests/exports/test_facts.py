"""`load_facts` reads what the email rule needs exactly as the ORM objects hold it, in the same order."""

from __future__ import annotations

from core.vocabulary import EmailType
from exports.eligibility import load_candidates, load_facts
from storage.db import unit_of_work
from storage.models import Candidate, CandidateEmail
from storage.repositories import CandidateRepository, ensure_workspace


def test_facts_match_the_candidates_emails_and_linkedin_url(sessions) -> None:
    with unit_of_work(sessions) as session:
        ensure_workspace(session, "T1")
        ensure_workspace(session, "T2")
        people = CandidateRepository(session, "T1")
        ids = []
        for n, emails in enumerate(
            [
                [],
                [("b@x.io", EmailType.WORK, True)],
                [
                    ("c2@x.io", EmailType.PERSONAL, True),
                    ("c1@x.io", EmailType.WORK, False),
                    ("c3@x.io", EmailType.OTHER, True),
                ],
            ]
        ):
            person = people.add(
                Candidate(first_name=f"P{n}", linkedin_url=f"https://www.linkedin.com/in/p{n}")
            )
            for address, kind, valid in emails:
                session.add(
                    CandidateEmail(
                        team_id="T1", candidate_id=person.id, address=address, type=kind, valid=valid
                    )
                )
            ids.append(person.id)
        other = CandidateRepository(session, "T2").add(Candidate(first_name="Elsewhere"))
        session.flush()
        ids.append(other.id)

    with unit_of_work(sessions) as session:
        facts = load_facts(session, "T1", ids)
        candidates = load_candidates(session, "T1", ids)
        assert set(facts) == set(candidates) == set(ids[:3])  # another workspace's candidate is not read
        for candidate_id, candidate in candidates.items():
            fact = facts[candidate_id]
            assert fact.linkedin_url == candidate.linkedin_url
            assert [(e.address, e.type, e.valid) for e in fact.emails] == [
                (e.address, e.type, e.valid) for e in candidate.emails
            ]
