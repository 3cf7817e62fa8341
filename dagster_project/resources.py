"""The DuckDB warehouse resource: one writer at a time, settings from configuration."""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.errors import UserError


def friendly_duckdb_error(path: Path, exc: duckdb.Error) -> UserError:
    """Turn DuckDB's open errors into one sentence a user can act on."""
    text = str(exc)
    if "Could not set lock" in text or "Conflicting lock" in text:
        pid = re.search(r"PID (\d+)", text)
        holder = f" (process {pid.group(1)})" if pid else ""
        return UserError(
            f"The warehouse {path} is locked by another process{holder}; wait for it to finish or stop it."
        )
    if "Permission denied" in text or "Read-only file system" in text or "Cannot open file" in text:
        return UserError(f"The warehouse {path} cannot be written: check that its folder is writable.")
    return UserError(f"The warehouse {path} cannot be opened: {text.splitlines()[0]}")


def is_disk_full(exc: BaseException) -> bool:
    """A write that failed because the file system is full (DuckDB says so in its text, OSError by errno)."""
    text = str(exc)
    return getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in text or "ENOSPC" in text


def disk_full_error(path: Path, exc: BaseException) -> UserError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return UserError(
        f"No space left on device while writing the warehouse {path} (DuckDB: {first}); free space on its "
        "file system and run the same days again."
    )


def checkpoint(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Write the WAL into the database file now, so a full disk fails the step that wrote, with its cause
    (a checkpoint that fails when the connection closes would otherwise go unnoticed)."""
    try:
        con.execute("CHECKPOINT")
    except duckdb.Error as exc:
        if is_disk_full(exc):
            raise disk_full_error(path, exc) from exc
        first = str(exc).splitlines()[0]
        raise UserError(f"The warehouse {path} could not be checkpointed (DuckDB: {first}).") from exc


def connect_duckdb(
    path: Path, *, tz: str, memory_limit: str, threads: int, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"The warehouse folder {path.parent} cannot be created: {exc.strerror}.") from exc
    try:
        con = duckdb.connect(
            str(path),
            read_only=read_only,
            config={"memory_limit": memory_limit, "threads": threads},
        )
        # Naive timestamps in the feeds are local times in SALESMP_TZ (ICU is loaded on first use).
        con.execute(f"SET TimeZone = '{tz}'")
    except duckdb.Error as exc:
        raise friendly_duckdb_error(path, exc) from exc
    if not read_only:
        owner_only(path)
    return con


def owner_only(path: Path) -> None:
    """The warehouse holds personal data in clear: only its owner may read it (and its WAL)."""
    for file in (path, Path(f"{path}.wal")):
        with contextlib.suppress(OSError):  # not ours, or gone: docs/security.md says who may read what
            if file.exists() and file.stat().st_mode & 0o077:
                os.chmod(file, 0o600)


class DuckDBWarehouse(dg.ConfigurableResource):
    """The build warehouse (SALESMP_WAREHOUSE). Only the pipeline writes it; readers use serving."""

    path: str
    tz: str = "Asia/Shanghai"
    memory_limit: str = "1GB"
    threads: int = 2

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect_duckdb(
            Path(self.path),
            tz=self.tz,
            memory_limit=self.memory_limit,
            threads=self.threads,
            read_only=read_only,
        )
        failed = True
        try:
            yield con
            failed = False
        except (duckdb.Error, OSError) as exc:
            if is_disk_full(exc):
                raise disk_full_error(Path(self.path), exc) from exc
            raise
        finally:
            try:
                con.close()  # checkpoints: a full disk can fail here too
            except duckdb.Error as exc:
                if not failed:  # else the error that failed the body is the one to tell
                    if is_disk_full(exc):
                        raise disk_full_error(Path(self.path), exc) from exc
                    raise
