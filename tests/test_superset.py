"""Apache Superset, as `make superset` installs it, over the serving database of a real build.

One Superset web server (gunicorn, loopback, a free port) runs for the module, on a copy of the
metadata database `make superset` initialised, re-pointed at a copy of the `built_pipeline` build by
the same import script (bi/superset/setup_superset.py). The test asks the chart-data API for every
chart of the "Channel health" dashboard while `salesmp run` publishes a new build, and compares each
chart's figures with its mart read directly from the serving file (pandas, to the cent); then it
takes a screenshot of the dashboard in headless Chromium (tests/artifacts/superset_channel_health.png).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import requests

from tests.browser import chromium, console_errors, save_screenshot
from tests.conftest import ROOT, SALESMP

SUPERSET_VENV = ROOT / ".superset" / "venv"
SUPERSET_HOME = Path(os.environ.get("SALESMP_SUPERSET_HOME", ROOT / ".superset" / "home"))
CONFIG = ROOT / "bi" / "superset" / "superset_config.py"
DASHBOARD = "channel-health"
CHARTS = {"CAC against CLV", "ROI ranking", "Funnel", "Published build"}
USER = {"username": "admin", "password": os.environ.get("SUPERSET_ADMIN_PASSWORD", "admin")}
CENT = Decimal("0.01")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _superset_env(home: Path, serving: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(
        SUPERSET_CONFIG_PATH=str(CONFIG), FLASK_APP="superset", SALESMP_SUPERSET_HOME=str(home),
        SALESMP_SERVING=str(serving), PATH=f"{SUPERSET_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


@pytest.fixture(scope="module")
def superset(built_pipeline, tmp_path_factory):
    """A running Superset over a copy of the built state: {"url", "session", "env", "root", "log"}."""
    imported = SUPERSET_HOME / ".imported"
    assert (SUPERSET_VENV / "bin" / "gunicorn").exists() and imported.exists(), (
        f"Superset is not installed and initialised ({imported} missing); run `make superset`."
    )
    root = tmp_path_factory.mktemp("superset")
    base = built_pipeline["root"]
    for name in ("landing", "dagster_home", "site"):
        shutil.copytree(base / name, root / name, symlinks=True)
    for name in ("warehouse.duckdb", "serving.duckdb", "pii.key"):
        shutil.copy(base / name, root / name)
    home = root / "superset_home"
    home.mkdir()
    shutil.copy(SUPERSET_HOME / "superset.db", home / "superset.db")
    env = _superset_env(home, root / "serving.duckdb")
    setup = subprocess.run(
        [str(SUPERSET_VENV / "bin" / "python"), str(ROOT / "bi" / "superset" / "setup_superset.py")],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-3000:]
    assert str(root / "serving.duckdb") in setup.stdout

    port = _free_port()
    log = root / "superset.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(SUPERSET_VENV / "bin" / "gunicorn"), "--workers", "1", "--threads", "4", "--timeout", "120",
             "--bind", f"127.0.0.1:{port}", "superset.app:create_app()"],
            env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, f"Superset stopped: {log.read_text()[-3000:]}"
            # gunicorn accepts connections before its worker has loaded Superset: wait through those
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                if requests.get(f"{url}/health", timeout=5).text == "OK":
                    break
            assert time.monotonic() < deadline, f"Superset did not answer in 180 s: {log.read_text()[-3000:]}"
            time.sleep(1)
        session = requests.Session()
        login = session.post(f"{url}/api/v1/security/login", json={**USER, "provider": "db"}, timeout=30)
        assert login.status_code == 200, login.text
        session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield {"url": url, "session": session, "env": {**built_pipeline["env"], **_data_env(root)},
               "root": root, "log": log}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _data_env(root: Path) -> dict[str, str]:
    return {
        "SALESMP_LANDING": str(root / "landing"), "SALESMP_WAREHOUSE": str(root / "warehouse.duckdb"),
        "SALESMP_SERVING": str(root / "serving.duckdb"), "SALESMP_SITE": str(root / "site"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }


def _charts(superset) -> dict[str, int]:
    got = superset["session"].get(f"{superset['url']}/api/v1/dashboard/{DASHBOARD}/charts", timeout=30)
    assert got.status_code == 200, got.text
    return {c["slice_name"]: c["id"] for c in got.json()["result"]}


def _chart_data(superset, chart_id: int) -> list[dict]:
    """The rows Superset's chart-data API returns for a saved chart, bypassing any cache."""
    got = superset["session"].get(f"{superset['url']}/api/v1/chart/{chart_id}/data/?force=true", timeout=120)
    if got.status_code != 200:
        raise AssertionError(f"chart {chart_id}: HTTP {got.status_code}: {got.text[:500]}")
    (result,) = got.json()["result"]
    if result.get("error") or result.get("status") != "success":
        raise AssertionError(f"chart {chart_id}: {result.get('status')}: {result.get('error')}")
    return result["data"]


def _cents(value) -> Decimal:
    """Superset's JSON carries DECIMAL as a number; the mart's value to the cent."""
    return Decimal(str(value)).quantize(CENT)


def _expected(serving: Path) -> dict[str, object]:
    """Each chart's figures from the marts, read directly (pandas) and computed from the chart's definition."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        # through Arrow, so DECIMAL columns arrive as exact Decimal values (not floats)
        health = con.sql("SELECT * FROM mart_channel_health").to_arrow_table().to_pandas()
        funnel = con.sql("SELECT * FROM mart_channel_funnel").to_arrow_table().to_pandas()
        log = con.sql("SELECT build_id, published_at FROM publish_log").to_arrow_table().to_pandas()
    finally:
        con.close()
    latest = health[health["month"] == health["month"].max()].sort_values("channel_id")
    assert len(latest) > 3
    newest_funnel = funnel[funnel["month"] == funnel["month"].max()]
    return {
        # per channel: CAC and CLV of the newest month, exact DECIMAL(18,2) in the mart
        "CAC against CLV": [
            (r.channel_id, None if pd.isna(r.cac) else r.cac, None if pd.isna(r.clv) else r.clv)
            for r in latest.itertuples()
        ],
        # channels by ROI, highest first (ties by channel, the order is checked on the values)
        "ROI ranking": sorted(
            ((r.channel_id, r.roi) for r in latest.itertuples() if pd.notna(r.roi)), key=lambda t: (-t[1], t[0])
        ),
        # all channels' visits, inquiries, carts and orders of the newest funnel month
        "Funnel": [(f"{step} {column}", int(newest_funnel[column].sum()))
                   for step, column in enumerate(["visits", "inquiries", "carts", "orders"], start=1)],
        "builds": list(log.sort_values("published_at")["build_id"]),
    }


def _dashboard_round(superset, charts: dict[str, int]) -> dict[str, object]:
    """One refresh of every chart, in chart-data API figures of the same shape as _expected's."""
    cac = _chart_data(superset, charts["CAC against CLV"])
    roi = _chart_data(superset, charts["ROI ranking"])
    funnel = _chart_data(superset, charts["Funnel"])
    (build,) = _chart_data(superset, charts["Published build"])
    return {
        "CAC against CLV": [
            (r["channel_id"], None if r["CAC"] is None else _cents(r["CAC"]),
             None if r["CLV"] is None else _cents(r["CLV"]))
            for r in cac
        ],
        "ROI ranking": [(r["channel_id"], r["ROI"]) for r in roi if r["ROI"] is not None],
        "Funnel": sorted((r["stage"], r["People"]) for r in funnel),
        "build_id": build["build_id"],
    }


def _assert_figures(got: dict, expected: dict) -> None:
    assert got["CAC against CLV"] == expected["CAC against CLV"]
    assert [v for _, v in got["ROI ranking"]] == sorted((v for _, v in got["ROI ranking"]), reverse=True)
    assert dict(got["ROI ranking"]) == pytest.approx(dict(expected["ROI ranking"]), rel=1e-12)
    assert got["Funnel"] == expected["Funnel"]


def test_dashboard_charts_equal_the_marts_while_a_build_publishes(superset):
    charts = _charts(superset)
    assert set(charts) == CHARTS
    serving = Path(superset["env"]["SALESMP_SERVING"])
    expected = _expected(serving)
    before = _dashboard_round(superset, charts)
    _assert_figures(before, expected)
    assert before["build_id"] == expected["builds"][-1]

    # Re-run the last day of the landing zone: a whole build that publishes a new serving file with
    # the same figures, renamed over the one Superset reads.
    last_day = max(p.name for p in (superset["root"] / "landing" / "orders").iterdir() if p.is_dir())
    log = superset["root"] / "run.log"
    with log.open("w") as out:
        build = subprocess.Popen(
            [SALESMP, "run", "--from", last_day, "--to", last_day],
            env=superset["env"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    rounds, errors = [], []
    started = time.monotonic()
    try:
        while build.poll() is None and time.monotonic() - started < 900:
            try:
                rounds.append(_dashboard_round(superset, charts))
            except Exception as exc:  # noqa: BLE001 - every failed refresh is a finding
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
            time.sleep(0.5)  # a dashboard's pace; leaves the build its CPU
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
        build.wait(timeout=60)
    assert build.returncode == 0, log.read_text()[-3000:]
    after = _dashboard_round(superset, charts)
    expected_after = _expected(serving)

    builds_seen = list(dict.fromkeys(r["build_id"] for r in [before, *rounds, after]))
    print(f"\nSuperset dashboard refreshes during the build: {len(rounds)} (4 charts each), errors: {len(errors)}, "
          f"builds seen: {builds_seen}, build took {time.monotonic() - started:.0f} s")
    assert errors == []
    assert len(rounds) >= 5
    assert len(expected_after["builds"]) == len(expected["builds"]) + 1
    assert builds_seen == [expected["builds"][-1], expected_after["builds"][-1]]
    for refresh in [*rounds, after]:
        _assert_figures(refresh, expected_after)
    assert after["build_id"] == expected_after["builds"][-1]


def test_serving_database_is_registered_read_only_with_a_dataset_per_mart(superset):
    session, url = superset["session"], superset["url"]
    (database,) = [d for d in session.get(f"{url}/api/v1/database/", timeout=30).json()["result"]
                   if d["database_name"] == "salesmp serving"]
    detail = session.get(f"{url}/api/v1/database/{database['id']}/connection", timeout=30).json()["result"]
    assert detail["sqlalchemy_uri"] == f"duckdb:///{superset['env']['SALESMP_SERVING']}?access_mode=read_only"
    assert not detail["allow_dml"] and not detail["allow_ctas"] and not detail["allow_cvas"]
    # Even through SQL Lab a write is refused, by Superset (no DML) and by DuckDB (read-only file).
    run = session.post(f"{url}/api/v1/sqllab/execute/", json={
        "database_id": database["id"], "sql": "CREATE TABLE scratch AS SELECT 1 AS x", "runAsync": False,
        "schema": "main"}, timeout=60)
    assert run.status_code >= 400 or run.json().get("status") == "failed", run.text
    datasets = {d["table_name"]: d["id"] for d in session.get(
        f"{url}/api/v1/dataset/?q=(page_size:100)", timeout=30).json()["result"]}
    con = duckdb.connect(superset["env"]["SALESMP_SERVING"], read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position").fetchall()
    finally:
        con.close()
    tables = {t for t, _, _ in columns}
    assert {"mart_channel_health", "dim_customers", "fct_orders", "publish_log", "mart_status"} <= tables
    # Every serving table has a dataset whose columns and types are the table's (the marts' from the
    # dbt contracts, the publish step's tables from their files in bi/superset/assets/datasets/).
    assert tables <= set(datasets), tables - set(datasets)
    for table in sorted(tables):
        got = session.get(f"{url}/api/v1/dataset/{datasets[table]}", timeout=30).json()["result"]["columns"]
        assert sorted((c["column_name"], c["type"]) for c in got) == sorted(
            (c, ty) for t, c, ty in columns if t == table), table


def test_dashboard_screenshot_in_headless_chromium(superset):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = superset["url"]
    with chromium() as driver:
        driver.get(f"{url}/login/")
        wait = WebDriverWait(driver, 60)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "input#username, input[name=username]"))
        driver.find_element(By.CSS_SELECTOR, "input#username, input[name=username]").send_keys(USER["username"])
        password = driver.find_element(By.CSS_SELECTOR, "input#password, input[name=password]")
        password.send_keys(USER["password"])
        password.submit() if password.get_attribute("form") else password.send_keys("\n")
        wait.until(lambda d: "/login" not in d.current_url)
        driver.get(f"{url}/superset/dashboard/{DASHBOARD}/?standalone=1")
        # every chart drawn: four chart holders, a canvas or table in each, no spinner left
        WebDriverWait(driver, 120).until(lambda d: d.execute_script(
            "const h = document.querySelectorAll('.dashboard-component-chart-holder');"
            "return h.length === 4 && [...h].every(e => e.querySelector('canvas, table'))"
            " && document.querySelectorAll('.loading').length === 0;"))
        time.sleep(2)  # echarts animations
        text = driver.find_element(By.TAG_NAME, "body").text
        path = save_screenshot(driver, "superset_channel_health.png")
        # The page asks the internet for a font and a telemetry pixel (built into Superset's frontend); the
        # tests run offline, so those two fail to load and are no finding.
        errors = [e for e in console_errors(driver) if not any(h in e for h in ("scarf.sh", "fonts.g", "favicon"))]
    assert path.stat().st_size > 20_000
    for title in CHARTS:
        assert title in text
    assert "Error" not in text and errors == [], errors
