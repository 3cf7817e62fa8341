"""Shared fixtures: isolated data folders and a helper that runs the real `salesmp` command."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SALESMP = str(Path(sys.executable).parent / "salesmp")


def salesmp_env(root: Path) -> dict[str, str]:
    """Environment for a salesmp process whose every file lives under root."""
    env = dict(os.environ)
    env.update(
        SALESMP_LANDING=str(root / "landing"),
        SALESMP_WAREHOUSE=str(root / "warehouse.duckdb"),
        SALESMP_SERVING=str(root / "serving.duckdb"),
        SALESMP_SITE=str(root / "site"),
        DAGSTER_HOME=str(root / "dagster_home"),
        SALESMP_TZ="Asia/Shanghai",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    return env


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a salesmp process whose every file lives under tmp_path."""
    return salesmp_env(tmp_path)


def run_salesmp(args: list[str], env: dict[str, str], timeout: int = 1200) -> subprocess.CompletedProcess:
    """Run `salesmp` and return its exit code and output.

    The output goes to files, not pipes, and the command runs in its own session whose leftovers are
    stopped when it ends: a grandchild that outlives it (once, on CI, a `tail -F` of Dagster's compute
    logs) would otherwise hold the pipes open and the test would wait until its timeout.
    """
    cmd = [SALESMP, *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL if proc.returncode is None else signal.SIGTERM)
            proc.wait()
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            cmd, proc.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
        )


@pytest.fixture(scope="session")
def built_pipeline(tmp_path_factory) -> dict:
    """One `salesmp run` over a small generated landing zone (three months), shared by the tests of
    what users see on top of a build: the docs site, the reports, the BI exports and clients.

    Returns {"env": environment of that build, "root": its folder, "stdout": the run's output}.
    """
    from datetime import date

    from dagster_project.generator import generate_landing_zone

    root: Path = tmp_path_factory.mktemp("built_pipeline")
    generate_landing_zone(
        root / "landing", seed=23, start=date(2025, 1, 1), days=95, customers=600,
        orders=9_000, defect_rate=0.002, file_format="mixed", progress=False,
    )
    env = salesmp_env(root)
    result = run_salesmp(["run"], env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {"env": env, "root": root, "stdout": result.stdout}
