"""Run `scaleup serve` while recording where each of its threads spends CPU time.

    python -m devkit.bench.thread_profile DIR serve --port 8000 ...   (the `scaleup` arguments follow DIR)

py-spy is the better tool (`BENCH_PYSPY`); without it, two in-process ways (`BENCH_PROFILE_MODE`):

- `sample` (the default): a thread wakes every millisecond, reads every other thread's CPU clock
  (`pthread_getcpuclockid`) and charges the CPU time each used since the last look to the stack it is in
  now (`sys._current_frames`). Cheap (a few per cent), and a function's share is its share of CPU time;
  its flaw is that a thread's last slice before it blocks is charged to where it blocks (a socket read,
  a lock, a commit), so shares of functions that block (Slack calls, statements) run high. Written in
  py-spy's raw format (`DIR/<name>.txt`: one stack, root first, and its CPU microseconds a line), which
  the bench's report reads either way.
- `cprofile`: cProfile in every thread (started by a `threading.setprofile` hook), timed with each
  thread's own CPU clock (`time.thread_time`), into `DIR/<name>.prof` (pstats). Exact call counts and
  callers, but the profiler's cost per call inflates code of many small calls (pure-Python parsing,
  Block Kit serialization) several-fold: use it for counts, not shares.

SIGUSR1 forgets what was recorded; SIGUSR2 writes everything recorded since, `<name>` being the contents
of `DIR/.next` (the bench writes it before signalling), with the SQL statements run meanwhile, each with
how many times it ran, in `DIR/<name>.sql.txt`.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

_profiles: list[cProfile.Profile] = []
_stacks: Counter[str] = Counter()  # sampled stack → CPU nanoseconds
_statements: Counter[str] = Counter()
_lock = threading.RLock()  # the signal handlers run on the main thread, which may hold it
_ROOT = str(Path(__file__).resolve().parents[2]) + os.sep


def _start() -> None:
    profile = cProfile.Profile(time.thread_time)
    with _lock:
        _profiles.append(profile)
    profile.enable()


def _hook(_frame: object, _event: str, _arg: object) -> None:
    sys.setprofile(None)  # the first event of a new thread: hand it over to its own profiler
    _start()


def _where(frame: FrameType | None) -> str:
    """Return `frame`'s stack in py-spy's raw format: `function (file:line)`, root first, `;` between."""
    names = []
    while frame is not None:
        code = frame.f_code
        file = code.co_filename.removeprefix(_ROOT).rpartition("site-packages" + os.sep)[2]
        names.append(f"{code.co_name} ({file}:{frame.f_lineno})")
        frame = frame.f_back
    return ";".join(reversed(names))


def _sample(interval: float) -> None:
    """Charge each thread's CPU time since the last look to its current stack, forever."""
    me = threading.get_ident()
    clocks: dict[int, int] = {}
    used: dict[int, int] = {}
    while True:
        time.sleep(interval)
        frames = sys._current_frames()
        charged = []
        for ident, frame in frames.items():
            if ident == me:
                continue
            try:
                if ident not in clocks:
                    clocks[ident] = time.pthread_getcpuclockid(ident)
                now = time.clock_gettime_ns(clocks[ident])
            except OSError:  # the thread ended meanwhile
                continue
            before, used[ident] = used.get(ident, now), now
            if now > before:
                charged.append((_where(frame), now - before))
        with _lock:
            for stack, nanoseconds in charged:
                _stacks[stack] += nanoseconds


class _Snapshot:
    """What pstats.Stats loads: a profiler's stats, taken without disabling it (`create_stats` would)."""

    def __init__(self, profile: cProfile.Profile) -> None:
        profile.snapshot_stats()
        self.stats = profile.stats

    def create_stats(self) -> None:
        """Nothing to do: the stats were taken in __init__."""


def _forget(_signum: int, _frame: Any) -> None:
    with _lock:
        for profile in _profiles:
            profile.clear()
        _stacks.clear()
        _statements.clear()


def _note_statement(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
    with _lock:
        _statements[" ".join(statement.split())] += 1


def _write(folder: Path) -> None:
    try:
        name = (folder / ".next").read_text().strip()
        with _lock:
            snapshots = [s for s in map(_Snapshot, _profiles) if s.stats]  # pstats refuses an empty one
            stacks = [f"{stack} {ns // 1000}\n" for stack, ns in _stacks.items() if ns >= 1000]
            statements = _statements.most_common()
        (folder / f"{name}.sql.txt").write_text("".join(f"{n:6d}  {sql}\n" for sql, n in statements))
        if snapshots:
            pstats.Stats(*snapshots).dump_stats(folder / f"{name}.tmp")
            (folder / f"{name}.tmp").rename(folder / f"{name}.prof")
        else:
            (folder / f"{name}.tmp").write_text("".join(stacks))
            (folder / f"{name}.tmp").rename(folder / f"{name}.txt")
    except Exception:  # noqa: BLE001 - a signal handler's exception would stop the server
        traceback.print_exc()


def main() -> int:
    """Record every thread, then run `scaleup` with the remaining arguments."""
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGUSR1, _forget)
    signal.signal(signal.SIGUSR2, lambda _s, _f: _write(folder))
    from sqlalchemy import Engine, event

    event.listen(Engine, "before_cursor_execute", _note_statement)  # every engine the app makes
    if os.environ.get("BENCH_PROFILE_MODE", "sample") == "cprofile":
        threading.setprofile(_hook)
        _start()
    else:
        # The sampler runs only when some thread lets the GIL go: at a blocking call, or when asked to after
        # the switch interval (5 ms by default, longer than most requests' Python work). A short one makes
        # its looks land inside that work too, rather than only where threads block.
        sys.setswitchinterval(0.0002)
        threading.Thread(target=_sample, args=(0.001,), name="cpu-sampler", daemon=True).start()
    from bot.cli import main as scaleup

    return scaleup(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
