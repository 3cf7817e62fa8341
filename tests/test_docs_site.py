"""The dbt docs site for analysts: descriptions everywhere, the built site, its lineage graph in Chromium."""

import contextlib
import csv
import functools
import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium, console_errors, save_screenshot

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "target" / "manifest.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    assert MANIFEST.exists(), f"{MANIFEST} is missing: run `make` (or `dbt parse --profiles-dir dbt`)."
    return json.loads(MANIFEST.read_text())


def documented(manifest: dict) -> Iterator[tuple[str, dict]]:
    """Every model, seed, source and exposure of the project."""
    for uid, node in {**manifest["nodes"], **manifest["sources"], **manifest["exposures"]}.items():
        if node["resource_type"] in ("model", "seed", "source", "exposure"):
            yield uid, node


def test_every_model_column_seed_source_and_exposure_is_described(manifest):
    kinds = {node["resource_type"] for _, node in documented(manifest)}
    assert kinds == {"model", "seed", "source", "exposure"}
    missing = []
    for uid, node in documented(manifest):
        if not node.get("description", "").strip():
            missing.append(uid)
        missing += [f"{uid}.{c}" for c, col in node.get("columns", {}).items() if not col["description"].strip()]
    assert not missing, "no description: " + ", ".join(missing)


def test_every_seed_column_is_documented(manifest):
    """Seeds have no contract, so their columns are compared with the CSV header."""
    missing = []
    for uid, node in documented(manifest):
        if node["resource_type"] == "seed":
            with open(ROOT / node["original_file_path"].removeprefix("../"), newline="") as f:
                header = next(csv.reader(f))
            missing += [f"{uid}.{c}" for c in header if c not in node["columns"]]
    assert not missing, "seed columns without a description: " + ", ".join(missing)


def test_marts_state_their_grain(manifest):
    marts = [n for _, n in documented(manifest) if n["resource_type"] == "model" and n["name"].startswith("mart_")]
    assert len(marts) >= 14
    silent = [n["name"] for n in marts if not re.search(r"\bgrain\b", n["description"], re.IGNORECASE)]
    assert not silent, f"mart descriptions without their grain: {silent}"


def test_reports_and_dashboards_are_exposures_of_the_marts_they_read(manifest):
    exposures = {n["name"]: n for _, n in documented(manifest) if n["resource_type"] == "exposure"}
    assert {"channel_efficiency_report", "customer_value_white_paper"} <= set(exposures)
    assert {n["type"] for n in exposures.values()} == {"analysis", "dashboard"}
    for name, exposure in exposures.items():
        assert exposure["owner"]["email"] and exposure["url"], name
        parents = exposure["depends_on"]["nodes"]
        assert parents and all(p.startswith("model.") for p in parents), name
    assert "model.salesmp.mart_nps" in exposures["channel_efficiency_report"]["depends_on"]["nodes"]
    assert "model.salesmp.mart_customer_rfm" in exposures["customer_value_white_paper"]["depends_on"]["nodes"]


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """The folder over HTTP on a free local port, as `make docs` serves it."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def docs_folder(built_pipeline) -> Path:
    return Path(built_pipeline["env"]["SALESMP_SITE"]) / "docs"


def test_the_build_writes_a_docs_site_that_documents_every_built_column(docs_folder):
    for name in ("index.html", "manifest.json", "catalog.json", "column_lineage.json"):
        assert (docs_folder / name).is_file(), name
    site_manifest = json.loads((docs_folder / "manifest.json").read_text())
    catalog = json.loads((docs_folder / "catalog.json").read_text())
    nodes = {**site_manifest["nodes"], **site_manifest["sources"]}
    built = {**catalog["nodes"], **catalog["sources"]}
    assert sum(1 for uid in built if uid.startswith("model.")) >= 40
    undocumented = []
    for uid, entry in built.items():
        described = {c.lower() for c, col in nodes[uid]["columns"].items() if col["description"].strip()}
        undocumented += [f"{uid}.{c}" for c in entry["columns"] if c.lower() not in described]
    assert not undocumented, "built columns without a description: " + ", ".join(undocumented)


def test_a_site_copied_from_the_docs_cache_equals_a_fresh_dbt_docs_generate(built_pipeline, docs_folder,
                                                                            tmp_path, monkeypatch):
    """The site may be copied from target/docs_site_cache (the same project and warehouse catalog):
    a fresh `dbt docs generate` on the built warehouse gives the same relations, columns and types."""
    from dagster_project.docs_site.assets import run_dbt_docs_generate

    monkeypatch.setenv("SALESMP_WAREHOUSE", built_pipeline["env"]["SALESMP_WAREHOUSE"])
    run_dbt_docs_generate(tmp_path / "fresh")

    def relations(catalog: dict) -> dict:
        return {uid: {c: (col["type"], col["index"]) for c, col in entry["columns"].items()}
                for uid, entry in {**catalog["nodes"], **catalog["sources"]}.items()}

    fresh = json.loads((tmp_path / "fresh" / "catalog.json").read_text())
    site = json.loads((docs_folder / "catalog.json").read_text())
    assert relations(site) == relations(fresh)
    assert json.loads((docs_folder / "manifest.json").read_text())["nodes"].keys() == \
        json.loads((tmp_path / "fresh" / "manifest.json").read_text())["nodes"].keys()


def test_mart_nps_lineage_graph_renders_in_chromium(docs_folder):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    site_manifest = json.loads((docs_folder / "manifest.json").read_text())
    project = site_manifest["metadata"]["project_name"]
    nps = f"model.{project}.mart_nps"
    ancestors, todo = set(), [nps]
    while todo:
        for parent in site_manifest["parent_map"][todo.pop()]:
            if parent not in ancestors:
                ancestors.add(parent)
                todo.append(parent)
    # The survey fact, the as-of date, the customer tiers and the survey feed itself are upstream.
    expected = {f"model.{project}.fct_survey_responses", f"model.{project}.int_as_of_date",
                f"model.{project}.mart_customer_tiers", f"source.{project}.raw.surveys"}
    assert expected <= ancestors

    with serve(docs_folder) as url, chromium() as driver:
        driver.get(f"{url}/#!/model/{nps}")
        wait = WebDriverWait(driver, 60)
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "body"), "mart_nps"))
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".launcher-btn a"))).click()
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, 'a[ng-click="showExpanded()"]'))).click()
        wait.until(lambda d: d.execute_script(
            "return angular.element(document.body).injector().get('graph').orientation") == "fullscreen")
        selection = driver.find_element(By.CSS_SELECTOR, ".launcher input").get_attribute("value")
        assert selection == "+mart_nps+"
        # The graph dbt docs drew (cytoscape, on canvas): its nodes as the page holds them.
        shown = wait.until(lambda d: d.execute_script(
            "var g = angular.element(document.body).injector().get('graph');"
            "var ready = g.graph.elements.filter(e => e.group === 'nodes').map(e => e.data.unique_id);"
            "return ready.length > 1 ? ready : null;"))
        canvas = driver.execute_script(
            "var c = document.querySelector('.launcher canvas'); return c ? [c.width, c.height] : null;")
        ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, ".launcher input")).perform()
        # cytoscape draws blurred labels while it moves the view; keep the picture once it is still.
        previous = None
        for _ in range(20):
            current = driver.get_screenshot_as_png()
            if current == previous:
                break
            previous = current
            time.sleep(0.5)
        save_screenshot(driver, "dbt_docs_mart_nps_lineage.png")
        errors = console_errors(driver)

    assert canvas and min(canvas) > 300, canvas
    assert nps in shown
    missing = sorted(a for a in ancestors if not a.startswith("test.") and a not in shown)
    assert not missing, f"upstream of mart_nps missing from the graph: {missing}"
    assert {f"exposure.{project}.channel_efficiency_report", f"exposure.{project}.customer_value_white_paper"} <= set(
        shown
    )
    # dbt docs' own page asks for two unrendered icon templates and a favicon; nothing else may fail,
    # and nothing may be fetched from the network.
    own_glitches = ("getIcon(", "favicon")
    assert not [e for e in errors if not any(g in e for g in own_glitches)], errors
