"""Per-request context: the workspace, one database session, who the user is allowed to be.

Bolt's global middleware runs *before* a listener, not around it, so it cannot own a transaction. The
unit of work is therefore a wrapper applied to each listener (`@scoped`): it opens one `Session`,
resolves the workspace from `team_id` (creating it on first sight), commits when the listener calls
`ack()` (Slack's answer leaves then, and must not announce what a rollback could undo) and again when the
listener returns, rolls back when it raises (the error then reaches `bot.errors.handle_error`), and only
after the last commit hands deferred slow work (`scope.after_commit`) to the background pool, so that work
sees what the request wrote. Listeners declare what they need by name, as with Bolt's own arguments:

    @scoped
    def open_link_modal(ack, body, client, session, workspace, is_admin, scope, deps): ...

A global middleware (`provide_deps`) puts the app's `Deps` in the context for the wrapper to find.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, BoltRequest, BoltResponse
from slack_bolt.kwargs_injection.args import Args
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, make_transient_to_detached

from bot.errors import handle_error
from core.ttl import TtlMemory
from storage.db import unit_of_work
from storage.models import Workspace
from storage.repositories import AdminRepository, ensure_workspace

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

#: Names a scoped listener can declare besides Bolt's own.
SCOPE_ARGS = ("session", "workspace", "is_admin", "scope", "deps")
#: Bolt's own listener arguments (`ack`, `body`, `client`, `view`, …).
BOLT_ARGS = frozenset(p for p in inspect.signature(Args.__init__).parameters if p not in ("self", "kwargs"))


class AdminCheck:
    """Answers "may this user connect the ATS and change links?" at most once per request.

    Workspace admins and owners may (Slack's `users.info` flags, remembered in `roles` for a few minutes),
    and so may users an admin added with `/scaleup admins add` (an `app_admin` row). Either grants it, so
    the cheapest answer goes first: a remembered "admin" flag (no statement at all), then the `app_admin`
    row (one statement), then the remembered "not an admin" flag, and `users.info` last. `users.info` is a
    Web API round trip that would otherwise stand before the acknowledgement of every `/scaleup link` and
    link submission by a non-app-admin; a demotion in Slack takes effect once the remembered flag expires.
    """

    def __init__(
        self,
        client: WebClient,
        session: Session,
        team_id: str,
        user_id: str | None,
        roles: TtlMemory[tuple[str, str], bool] | None = None,
    ) -> None:
        self._client = client
        self._session = session
        self._team_id = team_id
        self._user_id = user_id
        self._roles = roles
        self._answer: bool | None = None

    def __call__(self) -> bool:
        if self._answer is None:
            self._answer = self._decide()
        return self._answer

    def _decide(self) -> bool:
        if not self._user_id:
            return False
        known = self._roles.get((self._team_id, self._user_id)) if self._roles is not None else None
        if known:
            return True
        if AdminRepository(self._session, self._team_id).is_admin(self._user_id):
            return True
        if known is not None:
            return known
        try:
            user = self._client.users_info(user=self._user_id)["user"]
        except SlackApiError as exc:
            log.warning("users.info failed for an admin check: %s", exc.response.get("error"))
            return False
        flag = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        if self._roles is not None:
            self._roles.put((self._team_id, self._user_id), flag)
        return flag


@dataclass
class RequestScope:
    """What one request's listener works with; `after_commit` defers work until its writes are visible."""

    session: Session
    workspace: Workspace
    deferred: list[Callable[[], Any]] = field(default_factory=list)

    @property
    def team_id(self) -> str:
        """Return the request's workspace id."""
        return self.workspace.team_id

    def after_commit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `fn(*args, **kwargs)` on the background pool once this request's transaction committed."""
        self.deferred.append(lambda: fn(*args, **kwargs))


def provide_deps(deps: Deps) -> Callable[..., Any]:
    """Return the global middleware that makes `deps` available to scoped listeners."""

    def middleware(context: dict[str, Any], next: Callable[[], None]) -> None:
        context["deps"] = deps
        next()

    return middleware


#: Seconds a request's body is remembered to recognise Slack's retries of it (they come within minutes).
RETRY_MEMORY_SECONDS = 600.0


def drop_slack_retries(clock: Callable[[], float] = time.monotonic) -> Callable[..., Any]:
    """Return the global middleware that acknowledges and drops Slack's retries of a request already taken.

    Slack sends a request again, with the same body and `X-Slack-Retry-Num`, when the first delivery got no
    answer in time, often while it is still being handled. Handling it again would repeat its effect (a
    second link confirmation, a second export request), so a retry of a body seen in the last ten minutes
    is answered 200 and goes no further. A retry whose original never arrived is handled normally.
    """
    seen: dict[str, float] = {}
    lock = threading.Lock()

    def middleware(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        key = hashlib.sha256(req.raw_body.encode()).hexdigest()
        now = clock()
        with lock:
            if len(seen) > 10_000:
                for old in [k for k, until in seen.items() if until <= now]:
                    del seen[old]
            repeat = seen.get(key, 0.0) > now
            seen[key] = now + RETRY_MEMORY_SECONDS
        if repeat and req.headers.get("x-slack-retry-num"):
            log.info(
                "dropped Slack's retry %s of a request already taken", req.headers["x-slack-retry-num"][0]
            )
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def team_of(body: dict[str, Any], context: Any) -> tuple[str | None, str | None]:
    """Return the request's (team id, team domain)."""
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    team_id = context.get("team_id") or team.get("id") or body.get("team_id")
    return team_id, team.get("domain") or body.get("team_domain")


def scoped(fn: Callable[..., Any] | None = None, *, read_only: bool = False) -> Any:
    """Wrap a listener in the request's unit of work and inject `session`, `workspace`, `is_admin`, `scope`.

    Used as `@scoped`, or `@scoped(read_only=True)` for listeners that only read (they open a modal, answer
    options, redraw): their session never waits for SQLite's write lock, and may not write
    (`storage.db.make_session_factory`). Deferred work (`scope.after_commit`) has its own units and may.

    Raises:
        TypeError: at decoration, when the listener declares an argument nobody provides (a misspelt
            name would otherwise only fail when Slack first sends that request).
    """
    if fn is None:
        return lambda listener: scoped(listener, read_only=read_only)
    wanted = list(inspect.signature(fn).parameters)
    unknown = [name for name in wanted if name not in BOLT_ARGS and name not in SCOPE_ARGS]
    if unknown:
        raise TypeError(f"{fn.__name__} declares {unknown}: neither Bolt arguments nor one of {SCOPE_ARGS}")

    def run(args: Args) -> Any:
        deps: Deps = args.context["deps"]
        team_id, domain = team_of(args.body, args.context)
        if not team_id:
            raise ValueError("a scoped listener got a request without a workspace")
        session = (deps.services.read_sessions if read_only else deps.services.sessions)()
        ack = CommittingAck(args.ack, session, commit=not read_only)
        client = CommitFirstClient(args.client, session.commit)
        try:
            workspace = _workspace(session, deps, team_id, domain, read_only=read_only)
            scope = RequestScope(session=session, workspace=workspace)
            extra = {
                "ack": ack,
                "client": client,
                "respond": _commit_first(args.respond, client) if args.respond is not None else None,
                "session": session,
                "workspace": workspace,
                "scope": scope,
                "deps": deps,
                "is_admin": AdminCheck(
                    client, session, team_id, args.context.get("user_id"), deps.slack_roles
                ),
            }
            result = fn(**{name: extra[name] if name in extra else _bolt_arg(args, name) for name in wanted})
            session.commit()
            if deps.workspaces.get(team_id) != (workspace.name,):
                deps.workspaces.put(team_id, (workspace.name,))  # committed, so it exists
        except Exception as error:
            session.rollback()
            if not ack.called:
                raise
            # Slack has its answer already. Bolt would not only show the error but also take the answer
            # back (its runner sets `ack.response = None` after a failure) before the waiting request
            # thread may have read it, so an error after the acknowledgement is shown from here.
            handle_error(error, args.body, args.context, args.client, args.logger)
            return None
        except BaseException:
            session.rollback()
            raise
        finally:
            client.detach()
            session.close()
        for task in scope.deferred:
            deps.background.submit(task)
        return result

    # Bolt reads the wrapper's own argument names (`args`); the name is what its logs show.
    run.__name__ = run.__qualname__ = getattr(fn, "__name__", "listener")
    run.__module__ = fn.__module__
    return run


class CommitFirstClient(WebClient):
    """The Web API client a scoped listener gets: each Slack call first commits the request's session.

    So no database transaction spans a Slack call: on SQLite, where a writing transaction holds the one
    write lock from its start (`storage.db`), a listener waiting on `views.open` would otherwise keep every
    other writer waiting too, and on PostgreSQL its row locks. Committing first is also the order
    the user sees: a message Slack shows never announces a write that could still be rolled back.
    Background work the listener defers gets this client too; the request ends the tie (`detach`) so that
    work never touches the closed session.
    """

    def __init__(self, client: WebClient, before_call: Callable[[], object]) -> None:
        # The same token, URL, timeout, headers, proxy and retry handlers as the client Bolt built.
        self.__dict__.update(client.__dict__)
        self._before_call: Callable[[], object] | None = before_call

    def detach(self) -> None:
        """Stop committing before calls (the request's unit of work is over)."""
        self._before_call = None

    def before_slack_call(self) -> None:
        """Commit the request's session, while the request lasts."""
        if self._before_call is not None:
            self._before_call()

    def api_call(self, *args: Any, **kwargs: Any) -> Any:  # every WebClient method goes through here
        self.before_slack_call()
        return super().api_call(*args, **kwargs)


def _commit_first(call: Callable[..., Any], client: CommitFirstClient) -> Callable[..., Any]:
    """Return `call` (Bolt's `respond`: a POST to the response_url) committing first, like `client`."""

    def committed_then(*args: Any, **kwargs: Any) -> Any:
        client.before_slack_call()
        return call(*args, **kwargs)

    return committed_then


class CommittingAck:
    """The `ack` a scoped listener gets: it commits the request's session, then acknowledges.

    Slack's answer leaves at once (the request's thread is waiting for it), and only after the writes it
    may announce ("Saved") are durable. A read-only unit has no writes to make durable (`commit=False`):
    its transaction goes on after the answer, rather than a second one beginning for what the listener
    reads next (on SQLite three statements more: `PRAGMA query_only`, `BEGIN`, and its end).
    """

    def __init__(self, ack: Ack, session: Session, *, commit: bool = True) -> None:
        self._ack = ack
        self._session = session
        self._commit = commit
        self.called = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._commit:
            self._session.commit()
        answer = self._ack(*args, **kwargs)
        self.called = True
        return answer


def _workspace(
    session: Session, deps: Deps, team_id: str, domain: str | None, *, read_only: bool
) -> Workspace:
    """Return the request's workspace, created on first sight (in a unit of its own for a read-only one).

    A workspace this process saw committed in the last minutes (`deps.workspaces`) is not read again:
    its row is put in the session as it was (`make_transient_to_detached`, "as though the instance were
    freshly loaded from a query", https://docs.sqlalchemy.org/en/21/orm/session_api.html#sqlalchemy.orm.make_transient_to_detached),
    which costs no statement; listeners read its `team_id`, and any other column is loaded on first
    use. A unit that can write still reads the row when Slack reports another workspace name, to store it.
    """
    known = deps.workspaces.get(team_id)
    if known is not None and (read_only or not domain or known[0] == domain):
        workspace = Workspace(team_id=team_id, name=known[0])
        make_transient_to_detached(workspace)
        session.add(workspace)
        return workspace
    if not read_only:
        return ensure_workspace(session, team_id, domain)
    workspace = session.get(Workspace, team_id)
    if workspace is not None:
        return workspace
    with unit_of_work(deps.services.sessions) as writing:
        ensure_workspace(writing, team_id, domain)
    session.rollback()  # a read snapshot taken before that commit would not see it
    return session.get(Workspace, team_id)  # type: ignore[return-value]


def _bolt_arg(args: Args, name: str) -> Any:
    return getattr(args, name, None) if hasattr(args, name) else args.context.get(name)
