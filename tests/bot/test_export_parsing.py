"""Finding a person in a Slack message's text, and reading the export modals' state (pure functions)."""

from __future__ import annotations

import pytest

from bot.features.export.forms import ExportForm, parse_add_email, parse_export_form
from bot.features.export.ids import (
    CandidateRef,
    ExportIds,
    candidate_block_id,
    candidate_metadata,
    candidate_of_message,
)
from bot.features.export.parsing import ParsedPerson, parse_person, plain_text, split_name
from core.redaction import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            (
                "Check out Jane Doe - <mailto:jane.doe@example.com|jane.doe@example.com> "
                "<https://www.linkedin.com/in/jane-doe-4b1a|linkedin.com/in/jane-doe-4b1a>"
            ),
            ParsedPerson("Jane Doe", "jane.doe@example.com", "https://www.linkedin.com/in/jane-doe-4b1a"),
        ),
        (
            "Great candidate: *María José Núñez* (Staff Eng at Acme) https://linkedin.com/in/MJNunez/",
            ParsedPerson("María José Núñez", None, "https://www.linkedin.com/in/mjnunez"),
        ),
        ("Name: Bob O'Neil\nEmail: <mailto:Bob@X.io|Bob@X.io>", ParsedPerson("Bob O'Neil", "bob@x.io", None)),
        ("Contact: Li Wei, li.wei@corp.cn.", ParsedPerson("Li Wei", "li.wei@corp.cn", None)),
        (
            "<@U123> please export <https://www.linkedin.com/in/john-smith|John Smith>",
            ParsedPerson("John Smith", None, "https://www.linkedin.com/in/john-smith"),
        ),
        # No name in the text: the LinkedIn slug gives a guess the modal lets the recruiter correct.
        (
            "<https://uk.linkedin.com/in/ada-lovelace-99>",
            ParsedPerson("Ada Lovelace", None, "https://www.linkedin.com/in/ada-lovelace-99"),
        ),
        ("hey can someone look at this?", ParsedPerson()),
        ("write to jane@ at acme &amp; see https://example.com/in/jane", ParsedPerson()),
        ("not a profile: https://www.linkedin.com/company/acme", ParsedPerson()),
    ],
)
def test_parse_person(text: str, expected: ParsedPerson) -> None:
    assert parse_person(text) == expected
    assert parse_person(text).usable is bool(expected.email or expected.linkedin_url)


def test_slack_markup_is_undone() -> None:
    assert (
        plain_text("a &lt;b&gt; &amp; <@U1> <#C1|general> <!here> <https://x.io|site>")
        == "a <b> &    site https://x.io"
    )
    assert split_name("Ana Maria de Souza") == ("Ana", "Maria de Souza")
    assert split_name("Cher") == ("Cher", "")


def test_channel_text_is_redacted() -> None:
    assert (
        redact("failed: jane@example.com is taken, call +1 (415) 555-0100")
        == "failed: [email hidden] is taken, call [phone hidden]"
    )


def test_candidate_metadata_round_trips_and_buttons_are_a_fallback() -> None:
    metadata = candidate_metadata(7, 3).to_dict()
    assert metadata == {"event_type": "scaleup_candidate", "event_payload": {"candidate_id": 7, "link_id": 3}}
    ref = candidate_of_message({"metadata": metadata})
    assert ref is not None and (ref.candidate_id, ref.link_id) == (7, 3)
    button = {
        "type": "actions",
        "elements": [{"action_id": ExportIds.EXPORT_BUTTON, "value": '{"candidate_id": 9}'}],
    }
    assert candidate_of_message({"blocks": [button]}).candidate_id == 9  # type: ignore[union-attr]
    assert (
        candidate_of_message({"text": "hi", "metadata": {"event_type": "other", "event_payload": {}}}) is None
    )
    # Without metadata (Slack leaves it out of some payloads) the first block's id names the candidate.
    block_id = candidate_block_id(CandidateRef(candidate_id=5, link_id=2))
    section = {"type": "section", "block_id": block_id}
    assert candidate_of_message({"blocks": [section]}) == CandidateRef(candidate_id=5, link_id=2)
    assert candidate_of_message({"blocks": [{"type": "section", "block_id": "export-candidate:x:"}]}) is None


def _state(**fields: str | None) -> dict:
    ids = {
        "name": (ExportIds.NAME_BLOCK, ExportIds.NAME_INPUT),
        "email": (ExportIds.EMAIL_BLOCK, ExportIds.EMAIL_INPUT),
        "linkedin": (ExportIds.LINKEDIN_BLOCK, ExportIds.LINKEDIN_INPUT),
    }
    values: dict = {
        ExportIds.SEARCH_BLOCK: {
            ExportIds.SEARCH_SELECT: {"type": "static_select", "selected_option": {"value": "4"}}
        }
    }
    for name, value in fields.items():
        block, action = ids[name]
        values[block] = {action: {"type": "plain_text_input", "value": value}}
    return values


def test_export_form() -> None:
    assert parse_export_form(_state(), known=True) == ExportForm(link_id=4)
    assert parse_export_form(_state(name="Jane Doe", email=" Jane@Example.com "), known=False) == ExportForm(
        4, "Jane Doe", "jane@example.com", None
    )
    errors = parse_export_form(_state(name="", email="jane@", linkedin="linkedin.com/company/x"), known=False)
    assert set(errors) == {ExportIds.NAME_BLOCK, ExportIds.EMAIL_BLOCK, ExportIds.LINKEDIN_BLOCK}  # type: ignore[arg-type]
    nothing = parse_export_form(_state(name="Jane Doe"), known=False)
    assert "LinkedIn" in nothing[ExportIds.EMAIL_BLOCK]  # type: ignore[index]
    assert ExportIds.SEARCH_BLOCK in parse_export_form({}, known=True)  # type: ignore[operator]


def test_add_email_form() -> None:
    block = {
        ExportIds.ADD_EMAIL_BLOCK: {
            ExportIds.ADD_EMAIL_INPUT: {"type": "plain_text_input", "value": "A@B.co"}
        }
    }
    assert parse_add_email(block) == "a@b.co"
    bad = {
        ExportIds.ADD_EMAIL_BLOCK: {ExportIds.ADD_EMAIL_INPUT: {"type": "plain_text_input", "value": "nope"}}
    }
    assert "not a valid email" in parse_add_email(bad)[ExportIds.ADD_EMAIL_BLOCK]  # type: ignore[index]
