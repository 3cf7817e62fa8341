"""`salesmp metrics ...`: MetricFlow (`mf`) over the serving database, read-only (docs/metrics.md).

`mf` reads the semantic manifest at `<project>/target/semantic_manifest.json` and connects with the
profile's target. The relations in that manifest name the database and schema of the target it was
parsed for, so the serving database needs a manifest of its own (target `serving`: the file opened
with `access_mode=READ_ONLY`, every model in its schema `main`), and it must not overwrite the
Dagster manifest in target/. So a small project folder beside the serving file (METRICS_DIR) holds
a copy of dbt_project.yml with absolute paths and its own target/, parsed for `serving`; `mf` runs
there with the profile in dbt/.

A query opens the serving file read-only; a publish that renames a new file over it meanwhile does
not disturb it (the query finishes on the snapshot it opened).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_project.config import DBT_PROFILES_DIR, DBT_PROJECT_DIR, PROJECT_ROOT
from dagster_project.errors import UserError

# The semantic-layer folder of a serving file, unless SALESMP_METRICS_DIR says otherwise.
METRICS_DIR_NAME = ".metricflow"
_PATH_KEYS = re.compile(r"^(model-paths|seed-paths|macro-paths|test-paths):\s*\[(.*)\]\s*$", re.MULTILINE)


def serving_path() -> Path:
    return Path(os.environ.get("SALESMP_SERVING") or PROJECT_ROOT / "data" / "serving.duckdb").expanduser().resolve()


def metrics_dir(serving: Path) -> Path:
    configured = os.environ.get("SALESMP_METRICS_DIR")
    return Path(configured).expanduser().resolve() if configured else serving.parent / METRICS_DIR_NAME


def metrics_env(serving: Path, project: Path) -> dict[str, str]:
    """The environment of dbt and mf for the serving target."""
    env = dict(os.environ)
    env.update(
        SALESMP_SERVING=str(serving),
        SALESMP_DBT_TARGET="serving",
        DBT_PROFILES_DIR=str(DBT_PROFILES_DIR),
        DBT_PROJECT_DIR=str(project),
        DBT_LOG_PATH=str(project / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    return env


def _absolute_paths(text: str) -> str:
    """dbt_project.yml with its folder lists made absolute (they are relative to the project root)."""

    def repl(match: re.Match) -> str:
        items = [item.strip().strip("\"'") for item in match.group(2).split(",") if item.strip()]
        absolute = ", ".join(f'"{(DBT_PROJECT_DIR / item).resolve()}"' for item in items)
        return f"{match.group(1)}: [{absolute}]"

    return _PATH_KEYS.sub(repl, text)


def prepare_project(serving: Path) -> Path:
    """The project folder mf runs in, with a semantic manifest parsed for the serving target.

    `dbt parse` (about 20 s) runs again when a file of the dbt project is newer than the manifest or
    the serving path or time zone changed: the manifest follows the models of this checkout.
    """
    project = metrics_dir(serving)
    project.mkdir(parents=True, exist_ok=True)
    manifest = project / "target" / "semantic_manifest.json"
    stamp = project / "parsed_for.txt"
    key = f"{serving}\n{os.environ.get('SALESMP_TZ') or 'Asia/Shanghai'}\n"
    if manifest.exists() and stamp.exists() and stamp.read_text() == key:
        built = manifest.stat().st_mtime
        sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROFILES_DIR / "profiles.yml"]
        for folder in (PROJECT_ROOT / "models", PROJECT_ROOT / "seeds", DBT_PROFILES_DIR / "macros"):
            sources += [f for f in folder.rglob("*") if f.is_file()]
        if all(f.stat().st_mtime < built for f in sources):
            return project
    stamp.unlink(missing_ok=True)
    (project / "dbt_project.yml").write_text(_absolute_paths((DBT_PROJECT_DIR / "dbt_project.yml").read_text()))
    env = metrics_env(serving, project)
    parse = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROFILES_DIR), "--target", "serving", "--target-path", str(project / "target")],
        env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True,
    )
    if parse.returncode != 0 or not (project / "target" / "semantic_manifest.json").exists():
        raise UserError("dbt parse of the semantic layer failed:\n" + (parse.stdout + parse.stderr).strip()[-3000:])
    stamp.write_text(key)
    return project


def run_mf(mf_args: list[str], serving: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run `mf <mf_args>` against the serving database (read-only). kwargs go to subprocess.run."""
    serving = serving or serving_path()
    if not serving.exists():
        raise UserError(f"The serving database {serving} does not exist yet; run `salesmp run` first.")
    project = prepare_project(serving)
    mf = shutil.which("mf", path=str(Path(sys.executable).parent)) or "mf"
    return subprocess.run([mf, *mf_args], env=metrics_env(serving, project), cwd=project, check=False, **kwargs)


def cmd_metrics(args: argparse.Namespace) -> int:
    mf_args = [a for a in args.mf_args if a != "--"] or ["--help"]
    return run_mf(mf_args).returncode


def add_metrics_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "metrics",
        help="MetricFlow over the serving database, read-only: salesmp metrics query --metrics cac ...",
        description="Runs `mf` (dbt MetricFlow) against the published serving database, read-only, e.g. "
        "`salesmp metrics query --metrics cac,clv --group-by channel__channel_type,metric_time__month`, "
        "`salesmp metrics list metrics`, `salesmp metrics validate-configs`. See docs/metrics.md.",
    )
    parser.add_argument("mf_args", nargs=argparse.REMAINDER, help="the arguments of mf")
    parser.set_defaults(func=cmd_metrics)
