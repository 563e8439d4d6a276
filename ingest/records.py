"""What the sourcing side sends: one validated record per candidate or campaign response.

The same models check a CSV row, a JSON Lines row and an ingest API body, so a file and the API accept
exactly the same data and explain a bad value in the same words (always naming the field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.vocabulary import EmailType
from ingest.fast_syntax import email_address, linkedin_url
from storage.enums import ResponseType

#: Column or field holding each email type.
EMAIL_FIELDS: dict[str, EmailType] = {
    "email": EmailType.PRIMARY,
    "work_email": EmailType.WORK,
    "personal_email": EmailType.PERSONAL,
    "other_email": EmailType.OTHER,
}

_EMAIL_TYPES = tuple(EMAIL_FIELDS.values())
_emails_of = attrgetter(*EMAIL_FIELDS)

SourceId = Field(default=None, max_length=128, description="The sourcing platform's own id.")


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field and why, in words an operator can act on."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def describe(exc: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """Return pydantic's errors as (field, message) pairs, the field written `a.b[2].c`."""
    problems = []
    for error in exc.errors(include_url=False):
        path = prefix
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"] and ": " in message:
            # A rule across fields names its field in the message ("campaign: give ...").
            field, message = message.split(": ", 1)
            path = f"{prefix}.{field}" if prefix else field
        if error["type"] == "missing" or (error["type"] == "string_type" and error.get("input") is None):
            message = "is required"
        elif error["type"] == "extra_forbidden":
            message = "is not a known field"
        problems.append(FieldProblem(path, message))
    return problems


class Record(BaseModel):
    """Common rules: surrounding blanks trimmed, empty text means "not given", no NUL characters."""

    # Ids often arrive as JSON numbers; they are stored as text.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_missing(cls, value: Any) -> Any:
        if isinstance(value, str):
            if "\x00" in value:
                # PostgreSQL cannot store NUL in text; refuse it here instead of failing in the database.
                raise ValueError("contains a NUL character")
            if not value.isascii():  # ASCII always encodes: only other text is checked (a million times)
                try:
                    value.encode()
                except UnicodeEncodeError:
                    # A file that is not UTF-8 (read with surrogateescape) or a JSON "\\ud800" escape.
                    raise ValueError("is not valid UTF-8 text") from None
            if not value or value.isspace():  # as `not value.strip()`, without a copy
                return None
        return value


def _email(value: str | None) -> str | None:
    if value is None:
        return None
    address, problem = email_address(value)  # `core.contacts.check_email`, plain addresses at once
    if problem is not None:
        raise ValueError(f"{value!r} is not a valid email address ({problem})")
    return address


def _linkedin(value: str | None) -> str | None:
    if value is None:
        return None
    url = linkedin_url(value)
    if url is None:
        raise ValueError(f"{value!r} is not a LinkedIn profile URL (like https://www.linkedin.com/in/name)")
    return url


def _response_type(value: Any) -> Any:
    # Files say "Not interested" or "not-interested" as often as "not_interested".
    if isinstance(value, str):
        return "_".join(value.strip().lower().replace("-", " ").split())
    return value


class EmailsIn(Record):
    """A candidate's typed email addresses; each is checked by the one email rule and stored normalised."""

    email: str | None = Field(default=None, max_length=320, description="Primary email address.")
    work_email: str | None = Field(default=None, max_length=320)
    personal_email: str | None = Field(default=None, max_length=320)
    other_email: str | None = Field(default=None, max_length=320)

    _check_emails = field_validator(*EMAIL_FIELDS)(lambda cls, v: _email(v))

    def typed(self, *, only_given: bool = False) -> dict[EmailType, str | None]:
        """Return address per email type: the non-empty ones, or (only_given) every field the sender set."""
        if not only_given:  # the import asks this of every row: at C speed
            return {type_: address for type_, address in zip(_EMAIL_TYPES, _emails_of(self)) if address}
        fields = self.model_fields_set
        return {
            EMAIL_FIELDS[name]: getattr(self, name)
            for name in EMAIL_FIELDS
            if name in fields and (only_given or getattr(self, name))
        }


class CandidateIn(EmailsIn):
    """A sourced candidate. Matched within the workspace by source_id, else an email, else linkedin_url."""

    source_id: str | None = SourceId
    first_name: str = Field(max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    linkedin_url: str | None = Field(default=None, max_length=512)
    title: str | None = Field(default=None, max_length=255)
    company: str | None = Field(default=None, max_length=255)
    location: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=64)
    campaign: str | None = Field(
        default=None, max_length=255, description="Name of a campaign of the search the candidate is in."
    )
    response: ResponseType | None = Field(default=None, description="The candidate's answer to `campaign`.")

    _check_linkedin = field_validator("linkedin_url")(lambda cls, v: _linkedin(v))
    _check_response = field_validator("response", mode="before")(lambda cls, v: _response_type(v))

    @model_validator(mode="after")
    def _response_needs_campaign(self) -> Self:
        if self.response is not None and self.campaign is None:
            raise ValueError("response: needs the campaign it answers (the campaign column is empty)")
        return self


class ResponseIn(Record):
    """A candidate's answer to a campaign of a search; idempotent on source_id when one is given."""

    source_id: str | None = SourceId
    campaign_id: str | None = Field(default=None, max_length=128, description="The campaign's source id.")
    campaign: str | None = Field(default=None, max_length=255, description="The campaign's name.")
    candidate_id: str | None = Field(default=None, max_length=128, description="The candidate's source id.")
    email: str | None = Field(default=None, max_length=320, description="Finds the candidate by email.")
    linkedin_url: str | None = Field(default=None, max_length=512, description="Finds the candidate by URL.")
    type: ResponseType
    received_at: datetime | None = None

    _check_email = field_validator("email")(lambda cls, v: _email(v))
    _check_linkedin = field_validator("linkedin_url")(lambda cls, v: _linkedin(v))
    _check_type = field_validator("type", mode="before")(lambda cls, v: _response_type(v))

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @model_validator(mode="after")
    def _references(self) -> Self:
        if self.campaign_id is None and self.campaign is None:
            raise ValueError("campaign: give the campaign's name (campaign) or id (campaign_id)")
        if self.candidate_id is None and self.email is None and self.linkedin_url is None:
            raise ValueError("candidate_id: give the candidate's id, email or linkedin_url")
        return self


class ResponseRow(ResponseIn):
    """A response read from a file, which also names the search (by source id or name)."""

    search_id: str | None = Field(default=None, max_length=128)
    search: str | None = Field(default=None, max_length=255)


def parse(model: type[BaseModel], data: Mapping[str, Any]) -> BaseModel | list[FieldProblem]:
    """Validate `data` as `model`; return the record or the problems naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return describe(exc)
