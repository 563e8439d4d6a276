"""The link modal (the export form): pure functions of typed data (messages around it: `messages.py`).

Limits kept here (docs.slack.dev, Block Kit reference): option text ≤75 and value ≤150 characters, ≤100
options per select or options response, section text ≤3,000, ≤100 blocks per modal, title ≤24.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    CheckboxesElement,
    ConversationFilter,
    ConversationSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from ats.registry import spec_of
from bot.features.link.forms import JobChoice, LinkDraft, StageChoice, stages_for
from bot.features.link.ids import (
    ALL_EMAILS,
    INCLUDE_ATS,
    STAGE_DIGEST,
    STATIC_SEARCH_LIMIT,
    LinkIds,
    LinkMeta,
    stage_block_id,
)
from bot.features.preview.views import form_preview_blocks
from bot.ids import SLASH_COMMAND
from bot.views import OPTION_TEXT_MAX, ago, clip, escape, modal, note, option, radio, section
from core.vocabulary import EmailType, Vendor
from exports.preview import Preview
from storage.enums import Audience, ExportAs, LinkMode, ResponseType

TITLE = "Link a search"
OPTIONS_MAX = 100


@dataclass(frozen=True)
class SearchChoice:
    """A search as the form lists it."""

    id: int
    name: str


@dataclass(frozen=True)
class LinkFormData:
    """Everything the link modal shows.

    Attributes:
        vendor: the connected ATS.
        searches: the searches to choose from (at most `STATIC_SEARCH_LIMIT` are listed; more → typeahead).
        search_count: how many searches the workspace has.
        draft: the answers to show.
        stages: the chosen job's stages; None while they are being loaded.
        jobs_refreshed_at: when the cached job list was last loaded from the ATS (None: never).
        jobs_refreshing: a refresh of the job list is running.
        now: the time "refreshed … ago" is measured from.
        interval_minutes: how often automatic links are exported.
        notice: a line shown above the form (e.g. the search named in the command was not found).
        problem: why the stages or jobs could not be loaded, if they could not.
        preview: what saving would do now (`exports.preview`); None until a search is chosen and worked out.
    """

    vendor: Vendor
    searches: Sequence[SearchChoice]
    search_count: int
    draft: LinkDraft
    stages: Sequence[StageChoice] | None
    jobs_refreshed_at: datetime | None
    jobs_refreshing: bool
    now: datetime
    interval_minutes: int
    exports_supported: bool = True
    notice: str | None = None
    problem: str | None = None
    preview: Preview | None = None


def job_option(job: JobChoice) -> Option:
    """Return the select option of a job: its id as value, its name clipped to 75 characters."""
    return option(job.id, job.name)


def jobs_label(
    vendor: Vendor, refreshed_at: datetime | None, now: datetime, *, refreshing: bool, more: bool = False
) -> str:
    """Return the options-list label that says where the job list stands."""
    label = f"{spec_of(vendor).label} jobs, refreshed {ago(refreshed_at, now)}"
    if refreshing:
        label += " (refreshing)"
    if more:
        label += "; type to narrow"
    return clip(label, OPTION_TEXT_MAX)


def job_option_groups(jobs: Sequence[JobChoice], label: str) -> list[OptionGroup]:
    """Return the answer to a job options request: one labelled group of at most 100 jobs."""
    if not jobs:
        return []
    return [OptionGroup(label=label, options=[job_option(j) for j in jobs[:OPTIONS_MAX]])]


def search_options(searches: Sequence[SearchChoice]) -> list[Option]:
    """Return search options (at most 100)."""
    return [option(str(s.id), s.name) for s in searches[:OPTIONS_MAX]]


def link_modal(data: LinkFormData) -> View:
    """Return the export form for `data`."""
    draft = data.draft
    blocks: list[Block] = []
    if data.notice:
        blocks.append(section(f":information_source: {escape(data.notice)}"))
    blocks.append(_search_block(data))
    if not data.exports_supported:
        blocks.append(
            section(
                f":no_entry: *{spec_of(data.vendor).label} cannot take exports.* This link only leaves out candidates "
                f"{spec_of(data.vendor).label} already has, so nobody reaches out to them twice."
            )
        )
    else:
        blocks.extend(_job_blocks(data))
        blocks.append(
            radio(
                LinkIds.EXPORT_AS_BLOCK,
                LinkIds.EXPORT_AS_RADIO,
                "Export as",
                [
                    option(ExportAs.APPLICANT, "Applicants", "Placed on the job at the stage below"),
                    option(ExportAs.PROSPECT, "Prospects", "Sourced leads, not yet applied"),
                ],
                draft.export_as,
                dispatch=True,  # the stages offered follow the kind
            )
        )
        blocks.extend(_stage_blocks(data))
        blocks.append(
            radio(
                LinkIds.MODE_BLOCK,
                LinkIds.MODE_RADIO,
                "When to export",
                [
                    option(
                        LinkMode.AUTOMATIC,
                        "Automatically",
                        f"New candidates every {data.interval_minutes} min",
                    ),
                    option(
                        LinkMode.MANUAL,
                        "Only when someone asks",
                        f"{SLASH_COMMAND} export or the message shortcut",
                    ),
                ],
                draft.mode,
                dispatch=True,  # the preview says "when someone exports them" for a manual link
                hint="Automatic is the default: nobody has to remember to export, new candidates reach the ATS "
                "while they are still warm, and nobody is ever exported twice.",
            )
        )
    blocks.append(
        radio(
            LinkIds.AUDIENCE_BLOCK,
            LinkIds.AUDIENCE_RADIO,
            "Which candidates",
            [
                option(Audience.ALL, "Everyone in the campaign"),
                option(Audience.RESPONDERS, "Only those who responded"),
            ],
            draft.audience,
            dispatch=True,  # choosing "only responders" shows the response types
        )
    )
    if draft.audience is Audience.RESPONDERS:
        blocks.append(
            InputBlock(
                block_id=LinkIds.RESPONSES_BLOCK,
                label="Responses that count",
                dispatch_action=True,  # every answer that changes who is exported redraws the preview
                element=CheckboxesElement(
                    action_id=LinkIds.RESPONSES_CHECKBOXES,
                    options=[option(t, t.label) for t in ResponseType],
                    initial_options=[option(t, t.label) for t in draft.response_types] or None,
                ),
            )
        )
    blocks.append(
        email_block(LinkIds.EMAILS_BLOCK, LinkIds.EMAILS_CHECKBOXES, draft.email_types, dispatch=True)
    )
    if data.exports_supported:
        include = option(
            INCLUDE_ATS,
            "Add them to this job (with their existing record)",
            "Unchecked: they are held back and listed in the alert channel",
        )
        blocks.append(
            InputBlock(
                block_id=LinkIds.INCLUDE_ATS_BLOCK,
                label=f"People already in {spec_of(data.vendor).label}",
                optional=True,
                dispatch_action=True,
                element=CheckboxesElement(
                    action_id=LinkIds.INCLUDE_ATS_CHECKBOX,
                    options=[include],
                    initial_options=[include] if draft.include_ats_candidates else None,
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=LinkIds.CHANNEL_BLOCK,
            label="Channel for alerts",
            optional=True,
            hint="Failures, duplicates and candidates without an email are reported here, with the fix.",
            element=ConversationSelectElement(
                action_id=LinkIds.CHANNEL_SELECT,
                placeholder="Choose a channel",
                initial_conversation=draft.alert_channel,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        )
    )
    if spec_of(data.vendor).capabilities.status_sync:
        digest = option(STAGE_DIGEST, "Post a digest of ATS stage changes in the alert channel")
        blocks.append(
            InputBlock(
                block_id=LinkIds.STAGE_DIGEST_BLOCK,
                label="Stage changes",
                optional=True,
                hint="“3 of your exported candidates moved to Onsite”: names and stages, never an email.",
                element=CheckboxesElement(
                    action_id=LinkIds.STAGE_DIGEST_CHECKBOX,
                    options=[digest],
                    initial_options=[digest] if draft.stage_digest else None,
                ),
            )
        )
    blocks.extend(form_preview_blocks(data.preview) if data.preview else ())
    meta = LinkMeta(
        vendor=data.vendor,
        job_id=draft.job.id if draft.job else None,
        stages_loading=draft.job is not None and data.stages is None,
    )
    return modal(
        title=TITLE,
        callback_id=LinkIds.VIEW,
        blocks=blocks,
        submit="Save link",
        close="Cancel",
        private_metadata=meta.model_dump_json(),
    )


def _search_block(data: LinkFormData) -> InputBlock:
    chosen = next((s for s in data.searches if s.id == data.draft.search_id), None)
    initial = option(str(chosen.id), chosen.name) if chosen else None
    if data.search_count <= STATIC_SEARCH_LIMIT:
        element = StaticSelectElement(
            action_id=LinkIds.SEARCH_SELECT,
            placeholder="Choose a search",
            options=search_options(data.searches),
            initial_option=initial,
        )
    else:
        element = ExternalDataSelectElement(
            action_id=LinkIds.SEARCH_SELECT,
            placeholder="Type to find a search",
            initial_option=initial,
            min_query_length=0,
        )
    return InputBlock(block_id=LinkIds.SEARCH_BLOCK, label="Search", element=element, dispatch_action=True)


def _job_blocks(data: LinkFormData) -> list[Block]:
    draft = data.draft
    status = f"Open jobs from *{spec_of(data.vendor).label}*, list refreshed {ago(data.jobs_refreshed_at, data.now)}"
    status += " — refreshing now…" if data.jobs_refreshing else "."
    if data.problem:
        status += f"\n:warning: {escape(data.problem)}"
    return [
        InputBlock(
            block_id=LinkIds.JOB_BLOCK,
            label="ATS job",
            dispatch_action=True,  # choosing a job redraws the form with that job's stages
            element=ExternalDataSelectElement(
                action_id=LinkIds.JOB_SELECT,
                placeholder="Type to filter open jobs",
                initial_option=job_option(draft.job) if draft.job else None,
                min_query_length=0,
            ),
        ),
        SectionBlock(
            block_id=LinkIds.JOBS_NOTE,
            text=MarkdownTextObject(text=clip(status, 3000)),
            accessory=ButtonElement(action_id=LinkIds.REFRESH_JOBS, text="Refresh jobs"),
        ),
    ]


def _stage_blocks(data: LinkFormData) -> list[Block]:
    job = data.draft.job
    if job is None:
        return [note("Choose a job to see its stages.", block_id=LinkIds.STAGE_NOTE)]
    return kind_stage_blocks(
        data.vendor,
        data.draft.export_as,
        job,
        data.stages,
        data.draft.stage_id,
        block_id=stage_block_id(job.id, data.draft.export_as),
        action_id=LinkIds.STAGE_SELECT,
        note_id=LinkIds.STAGE_NOTE,
    )


def kind_stage_blocks(
    vendor: Vendor,
    kind: ExportAs,
    job: JobChoice,
    stages: Sequence[StageChoice] | None,
    stage_id: str | None,
    *,
    block_id: str,
    action_id: str,
    note_id: str,
    optional: bool = False,
) -> list[Block]:
    """Return the stage select of `job` for candidates of `kind`, or a note saying why there is none."""
    spec = spec_of(vendor)
    if kind is ExportAs.PROSPECT and not spec.capabilities.prospect_stages:
        return [
            note(
                f"{spec.label} keeps prospects in its prospect pools, not at a job's stage: they are added to "
                "the job as prospects, so there is no stage to choose.",
                block_id=note_id,
            )
        ]
    if stages is None:
        return [
            note(
                f":hourglass_flowing_sand: Loading the stages of {escape(clip(job.name, 200))}…",
                block_id=note_id,
            )
        ]
    fitting = stages_for(stages, kind, prospect_stages=True)
    if not fitting:
        return [
            note(
                f"This job has no stages for {kind.value}s to choose; {spec.label} places them at its first one.",
                block_id=note_id,
            )
        ]
    return [stage_block(block_id, action_id, fitting, stage_id, optional=optional, kind=kind)]


def stage_block(
    block_id: str,
    action_id: str,
    stages: Sequence[StageChoice],
    stage_id: str | None,
    *,
    optional: bool = False,
    kind: ExportAs = ExportAs.APPLICANT,
) -> InputBlock:
    """Return the stage select of one job (the block id should name the job: see `stage_block_id`)."""
    options = [option(s.id, s.name) for s in stages[:OPTIONS_MAX]]
    initial = next((o for o in options if o.value == stage_id), None)
    return InputBlock(
        block_id=block_id,
        label="Stage",
        optional=optional or None,  # the link modal's stage block says nothing: its snapshot stays as it was
        hint=f"Where the {kind.value}s are placed (the stages that take {kind.value}s).",
        element=StaticSelectElement(
            action_id=action_id,
            placeholder="Choose a stage",
            options=options,
            initial_option=initial,
        ),
    )


def email_block(
    block_id: str, action_id: str, email_types: Sequence[str], *, dispatch: bool = False
) -> InputBlock:
    """Return the email-type checkboxes with `email_types` checked ("All" when every type is); `dispatch`:
    a change is sent at once (the link form redraws its preview)."""
    options = [
        option(EmailType.PRIMARY, "Primary"),
        option(EmailType.WORK, "Work"),
        option(EmailType.PERSONAL, "Personal"),
        option(ALL_EMAILS, "All"),
    ]
    chosen = set(email_types)
    if chosen == set(EmailType):
        initial = [options[-1]]
    else:
        initial = [o for o in options[:-1] if o.value in chosen]
    return InputBlock(
        block_id=block_id,
        label="Email addresses to export",
        hint="The first valid one of these is sent as the main address; candidates without one wait for an "
        "email (Reachout on LinkedIn).",
        dispatch_action=dispatch,
        element=CheckboxesElement(action_id=action_id, options=options, initial_options=initial or None),
    )
