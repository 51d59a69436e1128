"""The jobs page in a real browser: Debian's Chromium, driven by Selenium, against a real
`reel serve` with real workers (tests/serving.py).

The example deck (examples/meal-plan.json, 60 s with music, a voiceover and a picture) is
uploaded through the page and rendered at 160×90, 10 fps: the smallest size its chart
slides fit, about 15 s of work on two cores. Screenshots at desktop (1280×800) and phone
(390×844) widths go to $TEST_ARTEFACTS_DIR when it is set, else to the test's tmp folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.browser import browser_paths, chromium
from tests.serving import Server, serve

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ASSETS = ("music.m4a", "plate.png", "voiceover.wav")  # the files meal-plan.json names
TOKEN = "page-token"
SIZE = "160x90@10"
DESKTOP = (1280, 800)
PHONE = (390, 844)
RENDER_SECONDS = 300  # a bound for a loaded CI machine, not a speed claim
TOUCH_PX = 44


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    named = os.environ.get("TEST_ARTEFACTS_DIR")
    folder = Path(named) / "server-page" if named else tmp_path_factory.mktemp("server-page")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    browser_paths()  # skip before starting a server the test cannot use
    with serve(tmp_path_factory.mktemp("serve"), tokens=[TOKEN]) as running:
        yield running


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(server: Server, downloads: Path) -> Iterator[webdriver.Chrome]:
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    with chromium(prefs=prefs) as driver:
        driver.set_script_timeout(30)
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        _viewport(driver, *DESKTOP)
        yield driver


@pytest.fixture
def page(browser: webdriver.Chrome, server: Server) -> webdriver.Chrome:
    """The page, logged in."""
    browser.get(server.url + "/")
    _wait(browser, lambda: _shown(browser, "login") or _shown(browser, "upload"))
    if _shown(browser, "login"):
        _log_in(browser, TOKEN)
    _wait(browser, lambda: _shown(browser, "upload"))
    return browser


def _viewport(driver: webdriver.Chrome, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.execute_cdp_cmd("Emulation.setScrollbarsHidden", {"hidden": True})


def _wait(driver: webdriver.Chrome, condition, seconds: float = 30, message: str = "") -> None:
    WebDriverWait(driver, seconds, poll_frequency=0.05).until(lambda _: condition(), message)


def _shown(driver: webdriver.Chrome, element_id: str) -> bool:
    return driver.find_element(By.ID, element_id).is_displayed()


def _log_in(driver: webdriver.Chrome, token: str) -> None:
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()


def _screenshot(driver: webdriver.Chrome, path: Path) -> None:
    """The whole page, not only the viewport."""
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path.write_bytes(base64.b64decode(shot["data"]))


def _fetch(driver: webdriver.Chrome, url: str) -> dict:
    """GET `url` from the page (its cookie, no token): status and body text."""
    return driver.execute_async_script(
        """const [url, done] = arguments;
        fetch(url).then(async (r) => done({status: r.status, text: await r.text()}), (e) => done({error: String(e)}));""",
        url,
    )


def test_login_takes_a_token_and_keeps_only_an_httponly_cookie(browser: webdriver.Chrome, server: Server) -> None:
    browser.get(server.url + "/")
    _wait(browser, lambda: _shown(browser, "login"))
    _log_in(browser, "not-the-token")
    _wait(browser, lambda: browser.find_element(By.ID, "login-error").text != "")
    assert "not accepted" in browser.find_element(By.ID, "login-error").text
    assert not _shown(browser, "upload")

    _log_in(browser, TOKEN)
    _wait(browser, lambda: _shown(browser, "upload"))
    cookie = browser.get_cookie("reel_session")
    assert cookie is not None and cookie["httpOnly"]
    kept = browser.execute_script(
        "return [document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage)]"
    )
    assert kept == ["", "{}", "{}"]  # the token is nowhere the page's scripts can read
    assert _fetch(browser, "/v1/jobs")["status"] == 200

    browser.find_element(By.ID, "logout").click()
    _wait(browser, lambda: _shown(browser, "login"))
    assert _fetch(browser, "/v1/jobs")["status"] == 401


def test_validation_errors_are_listed_with_their_paths(page: webdriver.Chrome, tmp_path: Path, artefacts: Path) -> None:
    deck = tmp_path / "bad.json"
    deck.write_text(json.dumps({"slides": [{"kind": "nope"}, {"kind": "title", "title": "x", "duration": -1}]}))
    page.find_element(By.ID, "deck").send_keys(str(deck))
    page.find_element(By.ID, "submit").click()
    _wait(page, lambda: page.find_elements(By.CSS_SELECTOR, "#upload-error li"))
    paths = [item.text for item in page.find_elements(By.CSS_SELECTOR, "#upload-error .path")]
    assert paths == ["slides[0].kind", "slides[1].duration"]  # every error, each with its JSON path
    assert not page.find_elements(By.CSS_SELECTOR, "#job-list .job")
    _screenshot(page, artefacts / "errors-desktop.png")


@pytest.mark.slow
def test_example_deck_renders_with_live_progress_plays_and_downloads(
    page: webdriver.Chrome, server: Server, downloads: Path, artefacts: Path
) -> None:
    page.find_element(By.ID, "deck").send_keys(str(EXAMPLES / "meal-plan.json"))
    page.find_element(By.ID, "assets").send_keys("\n".join(str(EXAMPLES / "assets" / name) for name in ASSETS))
    sent_as = [field.get_attribute("value") for field in page.find_elements(By.CSS_SELECTOR, "#asset-names input")]
    assert sent_as == [f"assets/{name}" for name in ASSETS]  # the paths the deck gives them
    page.find_element(By.ID, "custom-size").send_keys(SIZE)
    page.find_element(By.CSS_SELECTOR, "#quality option[value=standard]").click()

    # Every value the page gives a job's progress bar, as it gives it.
    page.execute_script(
        """window.progressSeen = [];
        new MutationObserver((changes) => {
          for (const change of changes) {
            if (change.target.localName === "progress") window.progressSeen.push(Number(change.target.value));
          }
        }).observe(document.getElementById("job-list"), {subtree: true, attributes: true, attributeFilter: ["value"]});"""
    )
    started = time.monotonic()
    page.find_element(By.ID, "submit").click()
    _wait(page, lambda: page.find_elements(By.CSS_SELECTOR, "#job-list .job"), message="no job card")
    card = page.find_element(By.CSS_SELECTOR, "#job-list .job")
    job_id = card.get_attribute("id").removeprefix("job-")
    final = ("done", "failed", "cancelled")
    _wait(
        page,
        lambda: (
            card.get_attribute("data-state") in final
            or any(0 < value < 1 for value in page.execute_script("return window.progressSeen"))
        ),
        RENDER_SECONDS,
        f"the job made no progress; server log:\n{server.output()[-3000:]}",
    )
    if card.get_attribute("data-state") == "running":
        _screenshot(page, artefacts / "running-desktop.png")  # the bar part-way, most of the time
    _wait(
        page,
        lambda: card.get_attribute("data-state") in final,
        RENDER_SECONDS,
        f"the job did not finish; server log:\n{server.output()[-3000:]}",
    )
    render_seconds = time.monotonic() - started
    assert card.get_attribute("data-state") == "done", card.text

    seen = page.execute_script("return window.progressSeen")
    # The queue records progress twice a second, so the frames (about 2 s here) give the
    # bar a few values between 0 and 1.
    moved = [value for value in seen if value > 0]
    assert len(set(moved)) >= 2 and min(moved) < 1, seen  # the bar moved while the job ran ...
    assert moved == sorted(moved), seen  # ... forwards only

    video = card.find_element(By.TAG_NAME, "video")
    played = page.execute_async_script(
        """const [video, done] = arguments;
        video.muted = true;
        video.play().then(() => {
          const start = performance.now();
          const check = () => {
            if (video.currentTime > 0.5 || performance.now() - start > 20000) {
              done({time: video.currentTime, width: video.videoWidth, height: video.videoHeight});
            } else {
              setTimeout(check, 50);
            }
          };
          check();
        }, (error) => done({error: String(error)}));""",
        video,
    )
    assert played.get("time", 0) > 0.5, played  # currentTime advances: the browser decodes and plays it
    assert (played["width"], played["height"]) == (160, 90)
    thumbnail = card.find_element(By.CSS_SELECTOR, ".images img")
    assert page.execute_script("return arguments[0].complete && arguments[0].naturalWidth", thumbnail) == 160

    _screenshot(page, artefacts / "done-desktop.png")
    _viewport(page, *PHONE)
    try:
        assert page.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]  # no sideways scroll
        small = page.execute_script(
            """return Array.from(document.querySelectorAll(
              "button, a.button, select, input[type=text], input[type=password], input[type=file], .choice"))
              .filter((node) => node.offsetParent !== null && node.getBoundingClientRect().height < arguments[0])
              .map((node) => node.outerHTML.slice(0, 80));""",
            TOUCH_PX,
        )
        assert small == []  # every control is big enough to touch
        unlabelled = page.execute_script(
            """return Array.from(document.querySelectorAll("input, select, progress, video"))
              .filter((node) => node.offsetParent !== null && !(node.labels && node.labels.length)
                      && !node.getAttribute("aria-label"))
              .map((node) => node.outerHTML.slice(0, 80));"""
        )
        assert unlabelled == []
        _screenshot(page, artefacts / "done-phone.png")
    finally:
        _viewport(page, *DESKTOP)

    # Download through the link itself, as a person would: the cookie is the only credential.
    output = server.home / "outputs" / job_id / f"meal-plan-{SIZE}.mp4"
    link = card.find_element(By.CSS_SELECTOR, f'.downloads a[download="{output.name}"]')
    link.click()
    saved = downloads / output.name
    _wait(page, saved.exists, 30, f"{saved.name} was not downloaded")
    _wait(page, lambda: not (downloads / f"{output.name}.crdownload").exists())
    assert hashlib.sha256(saved.read_bytes()).digest() == hashlib.sha256(output.read_bytes()).digest()
    with av.open(str(saved)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height) == (160, 90)
    report_link = card.find_element(By.CSS_SELECTOR, '.downloads a[download="report.json"]')
    report = _fetch(page, report_link.get_attribute("href"))
    assert report["status"] == 200
    (rendered,) = json.loads(report["text"])["reports"]
    assert rendered["frames"] == frames == 598  # 59.8 s at 10 fps
    print(f"render through the page: {render_seconds:.1f} s; progress values seen: {seen}")


def test_a_zip_bundle_is_accepted_and_its_job_cancelled(page: webdriver.Chrome, tmp_path: Path) -> None:
    bundle = tmp_path / "meal-plan.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.write(EXAMPLES / "meal-plan.json", "meal-plan.json")
        for name in ASSETS:
            archive.write(EXAMPLES / "assets" / name, f"assets/{name}")
    page.find_element(By.ID, "deck").send_keys(str(bundle))
    page.find_element(By.ID, "custom-size").send_keys(SIZE)
    before = len(page.find_elements(By.CSS_SELECTOR, "#job-list .job"))
    page.find_element(By.ID, "submit").click()
    _wait(page, lambda: len(page.find_elements(By.CSS_SELECTOR, "#job-list .job")) > before, message="no new job card")
    assert page.find_element(By.ID, "upload-error").text == ""
    card = page.find_element(By.CSS_SELECTOR, "#job-list .job")  # the newest comes first
    # The card is rebuilt as the job's state changes: find its button and click it at once.
    page.execute_script("arguments[0].querySelector('button.danger').click()", card)
    _wait(page, lambda: card.get_attribute("data-state") == "cancelled", 60, "the job was not cancelled")
    assert not card.find_elements(By.CSS_SELECTOR, "button.danger")
    assert not card.find_elements(By.TAG_NAME, "video")
