"""Headless Debian Chromium through Selenium, for tests whose product is a page.

Chromium and ChromeDriver come from Debian (`make browser` installs them); a test that needs them
fails with one clear sentence when they are missing, never skips.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1600,1200",
]


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if found:
            return found
    raise AssertionError(
        f"{names[0]} is not installed; run `make browser` (Debian packages chromium and chromium-driver)."
    )


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium session with a fresh profile; browser console logs are collected."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "chromium-browser")
    profile = tempfile.mkdtemp(prefix="salesmp-chromium-")
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(_binary("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, url: str, timeout: float = 30) -> str:
    """Navigate to url and wait until the document is complete and its body has content; return
    the page source. `driver.get` alone can return before a file:// page replaces the previous one
    (page_source was once read as '' on CI)."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && document.URL === arguments[0]"
            " && !!document.body && document.body.innerHTML.length > 0",
            url,
        )
    )
    return driver.page_source


def console_errors(driver) -> list[str]:
    """Console messages of level SEVERE since the last call."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def save_screenshot(driver, name: str) -> Path:
    """Keep a PNG screenshot under tests/artifacts/ (CI keeps the folder as the test artifact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path
