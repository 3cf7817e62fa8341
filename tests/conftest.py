"""Shared fixtures: isolated data folders and a helper that runs the real `salesmp` command."""

from __future__ import annotations

import os
import subprocess
import sys
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
    return subprocess.run(
        [SALESMP, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
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
