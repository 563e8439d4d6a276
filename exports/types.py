"""Values the export engine takes and returns: its configuration, pass results, outcomes and errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.errors import ScaleUpError
from storage.base import utcnow
from storage.enums import ExportAs
from storage.states import ExportState


@dataclass(frozen=True)
class EngineConfig:
    """How the export engine paces itself.

    Attributes:
        batch_size: candidates claimed per transaction (each claim is one commit before the ATS calls).
        pass_limit: candidates a pass exports at most (a huge search must not starve other links).
        lease_seconds: how long a claim holds before another worker may take the candidate over. It is
            renewed before each ATS call, so it must only outlast one call with its retries (HttpOptions
            timeout × max_tries plus back-off).
        max_attempts: transient failures a candidate may have before it becomes `failed`.
        backoff_seconds: delay before the first retry of a transient failure; doubles per attempt.
        backoff_cap_seconds: longest delay between two retries.
        interval_minutes: time between two automatic passes of a link without its own interval.
        processing_timeout_seconds: how long a `processing` record may stay invisible before it fails.
        visibility_grace_seconds: after an attempt whose outcome was lost, how long a vendor with delayed
            visibility may take to show the record; a look-up that finds nothing sooner proves nothing.
        mirror_max_age_seconds: a dedupe mirror refreshed more recently than this is not refreshed again
            (0: every pass refreshes it, which costs one request when nothing changed).
        job_check_max_age_seconds: a link whose job and stage were found fine this recently is not checked
            again (0: every pass asks the ATS). A problem found is never remembered: the link pauses at once.
        now: the wall clock (timezone-aware UTC), injectable for lease and back-off tests.
        clock: seconds since the epoch, compared with `run_pass(deadline=…)`.
    """

    batch_size: int = 25
    pass_limit: int = 500
    lease_seconds: float = 300.0
    max_attempts: int = 5
    backoff_seconds: float = 60.0
    backoff_cap_seconds: float = 3600.0
    interval_minutes: int = 5
    processing_timeout_seconds: float = 3600.0
    visibility_grace_seconds: float = 120.0
    mirror_max_age_seconds: float = 0.0
    job_check_max_age_seconds: float = 0.0
    now: Callable[[], datetime] = field(default=utcnow, repr=False)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """Return the seconds to wait before retry number `attempts` (counted from 1)."""
        delay = min(self.backoff_cap_seconds, self.backoff_seconds * 2 ** max(0, attempts - 1))
        return max(delay, retry_after or 0.0)


@dataclass(frozen=True)
class ExportOverrides:
    """What a recruiter changed for one manual export; each None keeps the link's value.

    The candidate's record stays the one of the link: only where this export goes and which addresses it
    sends change, for this call. When `job_id` names another job and `stage_id` is None, the link's stage
    (a stage of its own job) does not apply: the ATS puts the applicant in the job's first stage.

    Attributes:
        job_id: the ATS job to export to.
        job_name: its name, for messages (the ATS's name is used when None).
        stage_id: the stage applicants are added at (a stage of the job exported to).
        export_as: prospect or applicant.
        email_types: the email types to send, in the fixed order of the email rule (empty: any type).
        include_ats_candidates: True adds a person the ATS already has to the job even where the link holds
            such people back (the "Add to this job" button on a held-back candidate).
    """

    job_id: str | None = None
    job_name: str | None = None
    stage_id: str | None = None
    export_as: ExportAs | None = None
    email_types: tuple[str, ...] | None = None
    include_ats_candidates: bool | None = None

    def changes_job(self) -> bool:
        """Return True when the export goes somewhere else than the link says (job, stage or kind)."""
        return (self.job_id, self.stage_id, self.export_as) != (None, None, None)


@dataclass(frozen=True)
class Preflight:
    """What a bulk export of some candidates would do; the four counts add up to `total`.

    Attributes:
        total: candidates asked about (those in the search).
        will_export: would be sent to the ATS now.
        missing_email: have no valid email of the link's types; they wait for one (Reachout on LinkedIn).
        already_in_ats: the ATS has them already (dedupe mirror, or linked/excluded before); they are
            linked or excluded, never created again.
        already_done: exported, or being exported, already.
    """

    total: int
    will_export: int
    missing_email: int
    already_in_ats: int
    already_done: int


@dataclass(frozen=True)
class ExportOutcome:
    """Where one candidate stands after an export request, in words a recruiter can read."""

    candidate_id: int
    state: ExportState
    ats_candidate_id: str | None = None
    profile_url: str | None = None
    message: str | None = None
    export_id: int | None = None


@dataclass(frozen=True)
class PassResult:
    """What one pass of a link did; the counts are of candidates this pass touched."""

    team_id: str
    link_id: int
    claimed: int = 0
    exported: int = 0
    processing: int = 0
    duplicate: int = 0
    excluded: int = 0
    reachout: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0
    paused: bool = False
    cut_short: bool = False
    message: str | None = None
    outcomes: tuple[ExportOutcome, ...] = field(default=(), repr=False)


class LinkNotFound(ScaleUpError):
    """The link does not exist in this workspace (any more)."""


class ExportNotFound(ScaleUpError):
    """The export record does not exist in this workspace."""


class LinkPaused(ScaleUpError):
    """The link is paused (its job closed, its stage is gone…): nothing is exported until it is fixed."""


class OverrideRejected(ScaleUpError):
    """A manual export asked for a job, stage or kind the ATS cannot take (closed job, stage of another job…)."""


@dataclass
class Stop:
    """Why a batch stopped early; the rest of its claims go back to `pending` untouched.

    Attributes:
        reason: what a recruiter reads (the error's message, or "the pass ran out of time").
        error: the ATS error that stopped it, when one did.
        pause_link: the link's job or stage is gone: the link pauses until someone fixes it.
        out_of_time: the pass reached its deadline (or the worker was asked to stop).
    """

    reason: str
    error: Exception | None = None
    pause_link: bool = False
    out_of_time: bool = False
