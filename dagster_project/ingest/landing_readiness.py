"""Read a landing file only when it is complete: its size and modification time have settled.

A sender that writes a file in place (no rename into the folder) can be caught mid-write. The rule
(docs/operations.md, "Files still being written"): a file whose size or mtime changed within the last
SALESMP_LANDING_SETTLE_SECONDS is waited for until it has been unchanged that long, at most
SALESMP_LANDING_WAIT_SECONDS; a file still changing then, or one that changed while it was read
(its stat before and after the read differ), is not read in this run.

A zone generated or copied a moment ago waits at most the settle time once: every file's mtime is
then older than the settle time, or its signature stays unchanged for that long while we watch.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.25


def signature(st: os.stat_result) -> tuple[int, int]:
    return (st.st_size, st.st_mtime_ns)


@dataclass
class Settled:
    """The outcome of waiting for one file: its bytes, the error opening it, or not ready (both None)."""

    data: bytes | None = None
    error: OSError | None = None

    @property
    def ready(self) -> bool:
        return self.data is not None or self.error is not None


def wait_until_settled(
    path: Path, settle: float, wait: float, now=time.time, sleep=time.sleep
) -> os.stat_result | None:
    """The file's stat once unchanged for `settle` seconds (by its mtime, or watched that long), None
    when it is still changing after `wait` seconds. OSError when it cannot be stat'ed."""
    started = now()
    st = os.stat(path)
    watched_since = started
    while True:
        t = now()
        if t - st.st_mtime >= settle or t - watched_since >= settle:
            return st
        if t - started >= wait:
            return None
        sleep(max(0.01, min(POLL_SECONDS, settle, started + wait - t)))
        new = os.stat(path)
        if signature(new) != signature(st):
            st, watched_since = new, now()


def read_when_settled(path: Path, settle: float, wait: float, read=None) -> Settled:
    """The whole file once it has settled and did not change while read; not ready otherwise."""
    read = read or Path.read_bytes
    try:
        before = wait_until_settled(path, settle, wait)
        if before is None:
            return Settled()
        data = read(path)
        after = os.stat(path)
    except OSError as exc:
        return Settled(error=exc)
    if signature(after) != signature(before):
        return Settled()
    return Settled(data=data)


def not_ready_sentence(asset: str, paths: list[str]) -> str:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    one = len(paths) == 1
    return (
        f"{asset}: {shown} {'is' if one else 'are'} still being written; not read, "
        f"the next run reads {'it' if one else 'them'}."
    )
