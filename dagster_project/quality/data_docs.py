"""Data Docs: the suites and their validation results as static HTML in `$SALESMP_SITE/data_docs`.

Great Expectations' own Data Docs load Bootstrap, jQuery and Font Awesome from CDNs and need a
file-backed context with stores and checkpoints; ours is ephemeral and this machine is offline. So
the site is rendered here from the suite files and the results each check records: plain HTML with
inline CSS, no script and no link outside the folder, readable from `file://` with no network.

Layout: `index.html` (every suite, its asset, the latest status of each check), `suites/<suite>.html`
(batches, expectations with severity, the latest validation in detail, the history), and
`results/<suite>/<time>-<run_id>.json` (what each validation found, trimmed: counts per day and a
few failing rows). Run `python -m dagster_project.quality.data_docs` to re-render from those files.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from dagster_project.config import load_settings
from dagster_project.quality.suites import SEVERITIES, Suite, load_suites
from dagster_project.quality.validation import CheckOutcome

HISTORY = 20

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif;
margin:2rem;color:#1f2328;max-width:1400px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}h3{font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem;width:100%}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap}
.ok{background:#dafbe1;color:#116329}.error{background:#ffebe9;color:#a40e26}.warn{background:#fff8c5;color:#7d4e00}
.none{background:#eaeef2;color:#57606a}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;margin:.1rem;font-size:.8rem;
white-space:nowrap}
.muted{color:#57606a}a{color:#0969da}
"""


def docs_dir() -> Path:
    return load_settings().site / "data_docs"


def _page(title: str, body: str, up: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>\n"
        + (f'<p><a href="{up}index.html">&larr; all suites</a></p>\n' if up else "")
        + body
        + '\n<p class="muted">salesmp data quality: Great Expectations 1.x suites from '
        + "<code>expectations/</code>, "
        "validated by the Dagster asset checks. Severity <b>critical</b> = ERROR (blocking), "
        "<b>warning</b> = WARN (recorded).</p>\n</body></html>\n"
    )


def _status_class(check: dict[str, Any] | None) -> str:
    if not check:
        return "none"
    if check["passed"]:
        return "ok"
    return "error" if check["severity"] == "ERROR" else "warn"


def _status_text(check: dict[str, Any] | None) -> str:
    if not check:
        return "not run"
    return "passed" if check["passed"] else f"failed ({check['severity']})"


def _results_dir(root: Path, suite: str) -> Path:
    return root / "results" / suite


def record_validation(
    suite: Suite, outcomes: list[CheckOutcome], run_id: str, root: Path | None = None
) -> Path:
    """Store one validation of a suite and re-render its page and the index; returns the suite page."""
    root = root or docs_dir()
    now = datetime.now(UTC)
    folder = _results_dir(root, suite.name)
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "suite": suite.name,
        "asset": suite.asset_label,
        "run_id": run_id,
        "validated_at": now.isoformat(timespec="seconds"),
        "checks": [o.to_dict() for o in outcomes],
    }
    path = folder / f"{now.strftime('%Y%m%dT%H%M%S%f')}-{run_id}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)
    for old in sorted(folder.glob("*.json"))[:-HISTORY]:
        old.unlink(missing_ok=True)
    page = render_suite(suite, root)
    render_index(root)
    return page


def _history(root: Path, suite: str) -> list[dict[str, Any]]:
    files = sorted(_results_dir(root, suite).glob("*.json"), reverse=True)
    out = []
    for f in files[:HISTORY]:
        try:
            out.append(json.loads(f.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def _kwargs_text(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in kwargs.items())


def _check_section(check: dict[str, Any]) -> str:
    cls = _status_class(check)
    parts = [
        f'<h3><span class="badge {cls}">{escape(_status_text(check))}</span> {escape(check["check"])} '
        f'<span class="muted">({"ERROR, blocking" if check["blocking"] else "WARN"})</span></h3>',
        f"<p>{escape(check['description'])}</p><p><b>{escape(check['summary'])}</b></p>",
    ]
    failed = [e for e in check["expectations"] if not e["success"]]
    if failed:
        rows = []
        for e in failed:
            per_day = ", ".join(f"{d}: {n:,}" for d, n in list(e["unexpected_by_day"].items())[:31]) or "-"
            samples = json.dumps(e["samples"] or e["observed"], ensure_ascii=False, indent=None, default=str)
            rows.append(
                f"<tr><td>{e['position']}</td><td><code>{escape(e['type'])}</code><br>"
                f'<span class="muted">{escape(_kwargs_text(e["kwargs"]))}</span></td>'
                f"<td>{escape(e['severity'])}</td><td>{e['unexpected']:,} of {e['evaluated']:,}</td>"
                f"<td>{escape(per_day)}</td><td><pre>{escape(e['error'] or samples)}</pre></td></tr>"
            )
        parts.append(
            "<table><tr><th>#</th><th>expectation</th><th>severity</th><th>failing</th><th>per day</th>"
            "<th>sample of failing rows</th></tr>" + "".join(rows) + "</table>"
        )
    return "\n".join(parts)


def render_suite(suite: Suite, root: Path | None = None) -> Path:
    root = root or docs_dir()
    history = _history(root, suite.name)
    latest = history[0] if history else None
    latest_by_position: dict[int, dict[str, Any]] = {}
    if latest:
        for check in latest["checks"]:
            for e in check["expectations"]:
                latest_by_position[e["position"]] = e
    body = [
        f"<h1>Suite {escape(suite.name)}</h1>",
        f"<p>Asset <code>{escape(suite.asset_label)}</code> &middot; file "
        f"<code>expectations/{escape(suite.path.name)}"
        f"</code> &middot; {len(suite.expectations)} expectations</p>",
        f"<p>{escape(suite.description)}</p>",
        "<h2>Latest validation</h2>",
    ]
    if latest:
        body.append(
            f"<p>Run <code>{escape(latest['run_id'])}</code> at {escape(latest['validated_at'])}, "
            f"arrival days {escape(latest['checks'][0]['scope'] if latest['checks'] else '-')}</p>"
        )
        body += [_check_section(c) for c in latest["checks"]]
    else:
        body.append('<p class="muted">Not validated yet.</p>')
    body.append(
        "<h2>Batches</h2><table><tr><th>batch</th><th>kind</th><th>source</th><th>description</th></tr>"
    )
    for b in suite.batches.values():
        source = b.table or {
            "daily_volume": f"raw.ingest_log + raw.{b.feed}", "schema_drift": f"raw.quarantine + raw.{b.feed}"
        }.get(b.kind, "SQL below")
        body.append(
            f"<tr><td>{escape(b.name)}</td><td>{escape(b.kind)}</td><td><code>{escape(source)}</code>"
            f"{' per ' + escape(b.per_day) if b.per_day else ''}</td><td>{escape(b.description)}"
            + (f"<pre>{escape(b.sql)}</pre>" if b.sql else "")
            + "</td></tr>"
        )
    body.append("</table><h2>Expectations</h2>")
    body.append(
        "<table><tr><th>#</th><th>check</th><th>severity</th><th>batch</th><th>expectation</th>"
        "<th>description</th><th>latest</th></tr>"
    )
    for i, e in enumerate(suite.expectations, start=1):
        res = latest_by_position.get(i)
        if res is None:
            status = '<span class="badge none">not run</span>'
        elif res["success"]:
            status = f'<span class="badge ok">passed</span> {res["evaluated"]:,}'
        else:
            cls = "error" if res["severity"] == "ERROR" else "warn"
            status = f'<span class="badge {cls}">failed</span> {res["unexpected"]:,} of {res["evaluated"]:,}'
        body.append(
            f"<tr><td>{i}</td><td>{escape(e['meta']['check'])}</td>"
            f"<td>{escape(e['severity'])} ({SEVERITIES[e['severity']]})</td>"
            f"<td>{escape(e['meta']['batch'])}</td>"
            f'<td><code>{escape(e["type"])}</code><br><span class="muted">{escape(_kwargs_text(e["kwargs"]))}'
            f"</span></td><td>{escape(str(e.get('description') or ''))}</td><td>{status}</td></tr>"
        )
    body.append(
        "</table><h2>History</h2><table><tr><th>validated at</th><th>run</th><th>days</th>"
        "<th>checks</th></tr>"
    )
    for h in history:
        badges = " ".join(
            f'<span class="badge {_status_class(c)}">{escape(c["check"])}</span>' for c in h["checks"]
        )
        scope = h["checks"][0]["scope"] if h["checks"] else "-"
        body.append(
            f"<tr><td>{escape(h['validated_at'])}</td><td><code>{escape(h['run_id'])}</code></td>"
            f"<td>{escape(scope)}</td><td>{badges}</td></tr>"
        )
    body.append("</table>")
    path = root / "suites" / f"{suite.name}.html"
    _write(path, _page(f"Suite {suite.name}", "\n".join(body), up="../"))
    return path


def render_index(root: Path | None = None) -> Path:
    root = root or docs_dir()
    rows = []
    for suite in load_suites():
        history = _history(root, suite.name)
        latest = {c["check"]: c for c in history[0]["checks"]} if history else {}
        badges = " ".join(
            f'<span class="badge {_status_class(latest.get(name))}" '
            f'title="{escape(_status_text(latest.get(name)))}">'
            f"{escape(name)}{' &#9632;' if check.blocking else ''}</span>"
            for name, check in suite.checks.items()
        )
        when = (
            f"{escape(history[0]['validated_at'])}<br><code>{escape(history[0]['run_id'][:8])}</code>"
            if history
            else '<span class="muted">not validated yet</span>'
        )
        rows.append(
            f'<tr><td><a href="suites/{escape(suite.name)}.html">{escape(suite.name)}</a></td>'
            f"<td><code>{escape(suite.asset_label)}</code></td><td>{len(suite.expectations)}</td>"
            f"<td>{badges}</td><td>{when}</td></tr>"
        )
    body = (
        "<h1>salesmp data quality: Data Docs</h1>"
        "<p>One Great Expectations suite per raw feed and per mart. A check marked &#9632; is blocking "
        "(it has critical expectations): when it fails, nothing downstream of its asset runs and nothing "
        'is published. Colours: <span class="badge ok">passed</span> <span class="badge warn">WARN</span> '
        '<span class="badge error">ERROR</span> <span class="badge none">not run</span>.</p>'
        "<table><tr><th>suite</th><th>asset</th><th>expectations</th><th>checks (latest validation)</th>"
        "<th>validated</th></tr>" + "".join(rows) + "</table>"
    )
    path = root / "index.html"
    _write(path, _page("salesmp data quality", body))
    return path


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build_site(root: Path | None = None) -> Path:
    """Every page from the suite files and the stored results."""
    root = root or docs_dir()
    for suite in load_suites():
        render_suite(suite, root)
    return render_index(root)


if __name__ == "__main__":
    print(build_site())
