"""engine.client and `reel submit --server` against a real `reel serve` (tests/serving.py).

One server with a worker serves the module; tiny decks (160x90@10, draft) keep each job
under a second of rendering. The outputs are decoded with PyAV and held to the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import pytest
from PIL import Image

from engine.client import Client
from engine.errors import AuthError, JobFailedError, JobNotFoundError, ServerError, SpecError
from tests.serving import REPO, serve

TOKEN = "client-test-token"
PLATFORM = "160x90@10"
WAIT = 120.0  # seconds: a bound for a loaded machine, never an expectation


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("serve"), [TOKEN, "other-token"], args=["-j", "1"]) as running:
        yield running


@pytest.fixture
def client(server):
    with Client(server.url, TOKEN) as made:
        yield made


def _deck_with_image(folder: Path, seconds: float = 1.0) -> Path:
    """A deck file naming an image in a subfolder, made here."""
    (folder / "img").mkdir(parents=True)
    Image.new("RGB", (32, 18), (200, 40, 90)).save(folder / "img" / "plate.png")
    deck = {
        "title": "client test",
        "slides": [
            {"kind": "title", "title": "Hello", "duration": seconds},
            {"kind": "image", "file": "img/plate.png", "duration": seconds},
        ],
    }
    path = folder / "deck.json"
    path.write_text(json.dumps(deck))
    return path


def _decoded(path: Path) -> tuple[int, int, int]:
    """(frames, width, height) PyAV decodes from the video."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return len(frames), frames[0].width, frames[0].height


def test_submit_wait_download_gives_a_video_that_decodes_as_reported(client, tmp_path):
    deck = _deck_with_image(tmp_path / "deck")  # the image goes with it, under its own path
    job = client.submit(deck, platforms=PLATFORM, quality="draft")
    assert job["state"] == "queued" and job["platforms"] == [PLATFORM]

    seen: list[tuple[str, float]] = []
    final = client.wait(job["id"], on_progress=lambda j: seen.append((j["state"], j["progress"]["fraction"])))

    assert final["state"] == "done"
    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions), seen
    assert fractions[-1] == 1.0 and seen[-1][0] == "done"
    assert seen[0][0] in ("queued", "running")

    paths = client.download(job["id"], dest=tmp_path / "out")
    names = {p.name for p in paths}
    assert names == {o["name"] for o in final["outputs"]} and "report.json" in names
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporaries left
    (report,) = json.loads((tmp_path / "out" / "report.json").read_text())["reports"]
    video = next(p for p in paths if p.suffix == ".mp4")
    assert _decoded(video) == (report["frames"], report["width"], report["height"])
    assert report["frames"] > 0
    assert client.get(job["id"])["state"] == "done"
    assert job["id"] in {j["id"] for j in client.list()}


def test_download_of_one_output_by_name(client, tmp_path):
    job = client.submit({"slides": [{"kind": "title", "title": "One", "duration": 0.5}]}, platforms=[PLATFORM])
    client.wait(job["id"], timeout=WAIT)
    (path,) = client.download(job["id"], "report.json", dest=tmp_path)
    assert json.loads(path.read_text())["id"] == job["id"]
    with pytest.raises(JobNotFoundError):
        client.download(job["id"], "nothing.mp4", dest=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # the refused one left nothing


def test_cancel_ends_the_wait_with_a_job_failed_error(client):
    # Long to render, not only to watch: held frames cost nothing, so every frame moves
    # (a drift), at 640x360. A job of held slides could end before the cancel reached it.
    drift = {"drift": {"amount": 0.1, "direction": "left"}}
    long_deck = {
        "theme": {"background": {"gradient": {"from": "#1d2b53", "to": "#0b0f1a"}}},
        "slides": [{"kind": "title", "title": f"Slide {i}", "duration": 20, "motion": drift} for i in range(6)],
    }
    job = client.submit(long_deck, platforms=["640x360@30"], quality="draft")
    cancelled = client.cancel(job["id"])
    assert cancelled["id"] == job["id"]
    with pytest.raises(JobFailedError) as caught:
        client.wait(job["id"], timeout=WAIT)
    assert caught.value.job_id == job["id"]
    assert client.get(job["id"])["state"] == "cancelled"


def test_a_wrong_or_missing_token_is_an_auth_error_with_the_servers_message(server):
    for token in ("not-a-token", None):
        with Client(server.url, token) as client, pytest.raises(AuthError) as caught:
            client.list()
        assert caught.value.status == 401
        assert "token" in str(caught.value)


def test_another_tokens_job_is_not_found(server, client):
    job = client.submit({"slides": [{"kind": "title", "title": "Mine", "duration": 0.5}]}, platforms=[PLATFORM])
    with Client(server.url, "other-token") as other, pytest.raises(JobNotFoundError):
        other.get(job["id"])
    client.wait(job["id"], timeout=WAIT)


def test_spec_errors_come_back_all_with_their_paths(client):
    bad = {"slides": [{"kind": "title", "title": ""}, {"kind": "nope"}, {"kind": "image", "file": "img/gone.png"}]}
    with pytest.raises(SpecError) as caught:
        client.submit(bad, platforms=[PLATFORM])
    paths = [e["path"] for e in caught.value.errors]
    assert "slides[0].title" in paths and "slides[1].kind" in paths
    assert all(e["message"] for e in caught.value.errors)
    assert str(caught.value).startswith(caught.value.errors[0]["path"] + ": ")


def test_an_asset_the_deck_names_but_was_not_sent_is_a_spec_error_naming_it(client):
    with pytest.raises(SpecError) as caught:
        client.submit({"slides": [{"kind": "image", "file": "img/gone.png", "duration": 1}]}, platforms=[PLATFORM])
    assert "img/gone.png" in str(caught.value) or any("gone.png" in e["message"] for e in caught.value.errors)


def test_a_missing_job_is_not_found(client):
    with pytest.raises(JobNotFoundError):
        client.get("j-does-not-exist")


def test_a_full_queue_is_a_429_with_retry_after_and_retry_waits_it_out(tmp_path):
    env = {"REEL_QUEUE_MAX": "1"}
    deck = {"slides": [{"kind": "title", "title": "Wait", "duration": 0.5}]}
    with serve(tmp_path, [TOKEN], workers=False, env=env) as server, Client(server.url, TOKEN) as client:
        first = client.submit(deck, platforms=[PLATFORM])
        with pytest.raises(ServerError) as caught:
            client.submit(deck, platforms=[PLATFORM])
        assert caught.value.status == 429 and caught.value.retry_after is not None and caught.value.retry_after > 0

        # Room comes when the first job is cancelled; the retrying client waits for it.
        threading.Timer(0.5, lambda: client.cancel(first["id"])).start()
        with Client(server.url, TOKEN, retry=True, retries=20, max_retry_wait=0.25) as patient:
            second = patient.submit(deck, platforms=[PLATFORM])
        assert second["state"] == "queued"


def test_an_unreachable_server_is_a_server_error(tmp_path):
    from tests.serving import free_port

    with Client(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=5.0) as client, pytest.raises(ServerError) as caught:
        client.list()
    assert caught.value.status == 0


def test_reel_submit_server_wait_downloads_the_outputs(server, tmp_path):
    deck = _deck_with_image(tmp_path / "deck")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REEL_")}
    env.update(REEL_TOKEN=TOKEN, PYTHONPATH=str(REPO), REEL_HOME=str(tmp_path / "no-local-queue"))
    command = [sys.executable, "-m", "engine.cli", "submit", str(deck), "-p", PLATFORM, "--quality", "draft"]
    command += ["--server", server.url, "--wait", "-o", str(out)]
    started = time.monotonic()
    result = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    job_id = lines[0]
    assert {Path(line).name for line in lines[1:]} == {p.name for p in out.iterdir()}
    video = next(out.glob("*.mp4"))
    (report,) = json.loads((out / "report.json").read_text())["reports"]
    assert _decoded(video) == (report["frames"], report["width"], report["height"])
    assert not (tmp_path / "no-local-queue").exists()  # nothing went to this machine's queue
    assert time.monotonic() - started < WAIT
    with Client(server.url, TOKEN) as client:
        assert client.get(job_id)["state"] == "done"


def test_reel_submit_server_shows_every_spec_error_and_exits_2(server, tmp_path):
    deck = tmp_path / "bad.json"
    deck.write_text(json.dumps({"slides": [{"kind": "title", "title": ""}, {"kind": "nope"}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REEL_")}
    env.update(PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "engine.cli", "submit", str(deck), "--server", server.url, "--token", TOKEN]
    result = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 2
    assert "slides[0].title" in result.stderr and "slides[1].kind" in result.stderr
    assert "Traceback" not in result.stderr


def test_importing_engine_does_not_load_httpx():
    code = "import sys, engine; print('httpx' in sys.modules, 'engine.client' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_wait_follows_the_job_again_after_the_stream_drops(tmp_path, monkeypatch):
    # The first server dies (SIGKILL) with the job queued; a second on the same port
    # and REEL_HOME, with a worker, runs it. The waiting client reconnects to it.
    from tests import serving

    port = serving.free_port()
    monkeypatch.setattr(serving, "free_port", lambda: port)  # both servers on it
    deck = {"slides": [{"kind": "title", "title": "Again", "duration": 0.5}]}
    states: list[str] = []
    outcome: dict = {}
    with serve(tmp_path, [TOKEN], workers=False) as first:
        client = Client(first.url, TOKEN)
        job = client.submit(deck, platforms=[PLATFORM], quality="draft")

        def follow() -> None:
            try:
                outcome["job"] = client.wait(job["id"], on_progress=lambda j: states.append(j["state"]), timeout=WAIT)
            except Exception as exc:  # noqa: BLE001 - handed to the test's thread
                outcome["error"] = exc

        waiter = threading.Thread(target=follow)
        waiter.start()
        deadline = time.monotonic() + WAIT
        while not states and time.monotonic() < deadline:  # the stream is open
            time.sleep(0.05)
        first.process.kill()
        first.process.wait()
    with serve(tmp_path, [TOKEN], args=["-j", "1"]):
        waiter.join(WAIT)
    client.close()
    assert not waiter.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["job"]["state"] == "done"
    assert states[0] == "queued" and states[-1] == "done"
