"""Shared fixtures: isolated data folders and a helper that runs the real `salesmp` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SALESMP = str(Path(sys.executable).parent / "salesmp")


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a salesmp process whose every file lives under tmp_path."""
    env = dict(os.environ)
    env.update(
        SALESMP_LANDING=str(tmp_path / "landing"),
        SALESMP_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
        SALESMP_SERVING=str(tmp_path / "serving.duckdb"),
        SALESMP_SITE=str(tmp_path / "site"),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
        SALESMP_TZ="Asia/Shanghai",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    return env


def run_salesmp(args: list[str], env: dict[str, str], timeout: int = 1200) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SALESMP, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
