"""`salesmp run` as a supervisor and a worker, so that a run's child processes die with it.

The run itself (ingest, dbt, publish, export) executes in a worker process that the supervisor (the
`salesmp run` a user started) launches in its own session and process group, with the same stdout
and stderr, so the terminal shows the same lines. Everything the run spawns (dbt, Dagster's `tail -F`
of the compute logs and its watcher) is in that group.

- The supervisor dies (even by `kill -9`): the worker, which watches a pipe from it, reads EOF and
  kills its whole group with SIGKILL, so no dbt keeps writing the warehouse.
- The worker dies: the supervisor kills the group and exits 1 with one sentence.
- SIGTERM, SIGINT or SIGHUP to the supervisor: the worker group gets SIGTERM (the worker marks its
  Dagster run failed and stops its group), then SIGKILL after CANCEL_GRACE_SECONDS; the supervisor
  exits 128 + the signal's number with one sentence.

The worker's pid is the one its Dagster run is tagged with (stale_runs.process_tags), so a run whose
worker was killed is marked failed by the next `salesmp run`.

One run per warehouse: the worker holds an exclusive `flock` on `<warehouse>.run.lock` for the whole
run (the kernel releases it when the process dies, however it dies); a second run is refused with one
sentence naming the holder's pid before it changes anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from dagster_project.errors import UserError

# The worker finds the supervisor's pipe by this variable (the fd number of its read end).
SUPERVISOR_FD_ENV = "SALESMP_SUPERVISOR_FD"
CANCEL_GRACE_SECONDS = 30.0
CANCEL_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
EXIT_RUN_FAILED = 1


def is_worker() -> bool:
    return SUPERVISOR_FD_ENV in os.environ


def _kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def supervise(argv: list[str]) -> int:
    """Run `salesmp <argv>` as a worker in its own process group; its exit code (see the module doc)."""
    read_end, write_end = os.pipe()  # the supervisor holds the write end and never writes
    package_root = str(Path(__file__).resolve().parent.parent)  # the worker runs this same code
    env = dict(os.environ)
    env[SUPERVISOR_FD_ENV] = str(read_end)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    received: list[int] = []
    worker: subprocess.Popen | None = None

    def on_signal(signum, _frame):
        received.append(signum)
        if worker is not None:
            _kill_group(worker.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, on_signal) for sig in CANCEL_SIGNALS}
    try:
        worker = subprocess.Popen(
            [sys.executable, "-m", "dagster_project.cli", *argv],
            env=env,
            pass_fds=(read_end,),
            start_new_session=True,
        )
        os.close(read_end)
        cancelled_at = None
        while (code := worker.poll()) is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=1.0)
            if received and cancelled_at is None:  # (a signal may have come before `worker` was set)
                cancelled_at = time.monotonic()
                _kill_group(worker.pid, signal.SIGTERM)
            if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE_SECONDS:
                _kill_group(worker.pid)  # cancelled and still running after the grace period
    finally:
        if worker is not None:
            _kill_group(worker.pid)  # leftovers of the run (a dbt or a tail), if any
        os.close(write_end)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        name = signal.Signals(received[0]).name
        print(f"salesmp: the run was cancelled by {name}; its processes (dbt included) were stopped "
              "and the next `salesmp run` starts from what was committed.", file=sys.stderr)
        return 128 + received[0]
    if code < 0:
        print(f"salesmp: the run's worker process {worker.pid} was killed by {signal.Signals(-code).name}; "
              "its processes (dbt included) were stopped and the next `salesmp run` marks the run failed.",
              file=sys.stderr)
        return EXIT_RUN_FAILED
    return code


def watch_supervisor() -> None:
    """In the worker: kill this process group with SIGKILL as soon as the supervisor's pipe closes."""
    fd = int(os.environ.pop(SUPERVISOR_FD_ENV))

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(fd, 1):
                pass
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="salesmp-supervisor-watch", daemon=True).start()


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".run.lock")


def acquire_run_lock(warehouse: Path) -> int:
    """Hold the run lock of `warehouse` until this process exits; its fd. A held lock is a UserError."""
    path = lock_path(warehouse)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by dbt (close-on-exec)
    except OSError as exc:
        raise UserError(f"The run lock {path} cannot be created: {exc.strerror}.") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise UserError(
            f"Another `salesmp run` (process {holder}) is running on the warehouse {warehouse}; "
            "wait for it to end or stop it, then run again."
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


class _Cancelled(BaseException):
    pass


@contextlib.contextmanager
def cancellable(instance, run_id: str):
    """In the worker, around a run: SIGTERM (the supervisor's cancellation) marks the Dagster run
    failed and kills this process group, dbt included (the supervisor prints the sentence)."""

    def on_sigterm(_signum, _frame):
        raise _Cancelled

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    except _Cancelled:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with contextlib.suppress(Exception):  # the next run marks it failed if this does not
            run = instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                instance.report_run_failed(run, message="Cancelled: `salesmp run` received a stop signal.")
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        signal.signal(signal.SIGTERM, previous)
