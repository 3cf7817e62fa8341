"""Combine the scale points of several benchmark result files into benchmarks/results/latest.*.

Used when a scale point had to be measured again (e.g. after a fix) without re-running the others.
Each scale point keeps the measurements of the run it came from; the file records every source run
(`merged_from`), the ratios and targets are recomputed from the combined scale points, and the
definitions load time comes from the newest source that measured it.

    python -m benchmarks.merge OLDER.json NEWER.json   # a scale point in NEWER replaces OLDER's
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.run import RESULTS_DIR, headline, judge_targets, write_markdown


def merge(paths: list[Path]) -> dict:
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    merged = dict(reports[-1])
    merged["scales"] = {}
    definitions = None
    for report in reports:
        for label, scale in report["scales"].items():
            merged["scales"][label] = {**scale, "measured_in_run_started_at": report["started_at"]}
        definitions = report.get("definitions_load") or definitions
    merged["merged_from"] = [
        {"file": p.name, "started_at": r["started_at"], "command": r["command"], "scales": sorted(r["scales"]),
         "load_average_at_start": r["machine"].get("load_average_at_start"),
         "failures": r.get("failures", [])}
        for p, r in zip(paths, reports, strict=True)
    ]
    merged["reps_plan"] = {k: v for r in reports for k, v in r.get("reps_plan", {}).items() if k in merged["scales"]}
    merged["failures"] = []
    merged.update(headline(merged["scales"], definitions))
    merged["definitions_load"] = definitions
    merged["targets"] = judge_targets(merged)
    return merged


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m benchmarks.merge OLDER.json NEWER.json [...]", file=sys.stderr)
        return 2
    merged = merge([Path(a) for a in argv])
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "latest.json").write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    write_markdown(merged, RESULTS_DIR / "latest.md")
    print(f"merged {len(argv)} result files into {RESULTS_DIR / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
