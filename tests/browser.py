"""Debian's Chromium driven by Selenium, for the tests that need a real browser.

Real time, not `--virtual-time-budget`: under load, virtual time ran out before the
media pipeline answered a seek, and the page was dumped half done.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


def browser_paths() -> tuple[str, str]:
    """Chromium's and chromedriver's paths, or skip the test with what to install."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("Chromium and chromedriver are not installed (scripts/install-system-deps.sh installs them)")
    return chromium, driver


@contextmanager
def chromium(*arguments: str, prefs: dict[str, Any] | None = None) -> Iterator[Any]:
    """A headless Chromium under chromedriver, quit on the way out."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")
    from selenium.webdriver.chrome.service import Service

    chromium_path, driver_path = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--mute-audio", *arguments):
        options.add_argument(argument)
    if prefs:
        options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()
