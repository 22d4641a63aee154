"""A real browser for the catalog's tests: Debian's chromium driven by its chromedriver through selenium.

Nothing is downloaded at run time (selenium is pointed at the Debian driver).  A missing browser
fails the test that needs it, saying how to install it, unless HUBTOOL_SKIP_BROWSER=1 on purpose.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@contextmanager
def browser(width: int = 1200, height: int = 900) -> Iterator[object]:
    """A headless chromium session that records console messages and network requests."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        if os.environ.get("HUBTOOL_SKIP_BROWSER") == "1":
            pytest.skip("HUBTOOL_SKIP_BROWSER=1: browser tests skipped on purpose")
        pytest.fail("chromium and chromedriver are not installed: `make test` installs them "
                    "(apt-get install chromium chromium-driver), or set HUBTOOL_SKIP_BROWSER=1")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def requested(driver: object) -> list[str]:
    """Every URL the page asked for since the last call (from the DevTools performance log)."""
    entries = driver.get_log("performance")  # type: ignore[attr-defined]
    messages = [json.loads(e["message"])["message"] for e in entries]
    return [m["params"]["request"]["url"] for m in messages if m["method"] == "Network.requestWillBeSent"]
