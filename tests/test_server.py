"""`reel serve` end to end: a real server on a loopback port (tests/serving.py), real workers.

One server with workers and one without are shared by the module's tests; the tests
that stop a server start their own. Decks are tiny: 160x90@10 at draft quality.
"""

from __future__ import annotations

import io
import json
import os
import struct
import time
import wave
import zipfile
import zlib
from pathlib import Path

import av
import httpx
import pytest

from engine.jobs import JobState, JobStore, OutputRequest, RenderJob
from engine.server.intake import sweep_uploads, upload_folder
from tests.serving import serve

PLATFORM = {"platform": "160x90@10", "quality": "draft"}
# A slide whose every frame is composited: a camera over a picture (sent as dot.png).
MOVING = {"kind": "image", "file": "dot.png", "duration": 4.0, "motion": {"ken_burns": True}}
LIMITS = {
    "REEL_RATE_LIMIT": "100000",
    "REEL_MAX_ASSETS": "3",
    "REEL_MAX_UPLOAD_MB": "0.5",
    "REEL_MAX_REQUEST_MB": "2",
    "REEL_MAX_IMAGE_PIXELS": "10000",
    "REEL_MAX_SLIDES": "40",
    "REEL_MAX_AUDIO_SECONDS": "1",
    "REEL_MAX_VIDEO_GIGAPIXELS": "0.01",
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, rgb: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """A solid RGB PNG, made here (no media in git)."""
    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(row * height)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * int(8000 * seconds))
    return out.getvalue()


def deck(slides: int = 2, seconds: float = 1.0, **extra) -> dict:
    return {
        "title": "Tiny",
        "slides": [{"kind": "title", "title": f"Slide {i}", "duration": seconds} for i in range(slides)],
        **extra,
    }


def submit(client: httpx.Client, data: dict, assets: dict[str, bytes] | None = None, **form) -> httpx.Response:
    files = [("deck", ("tiny.json", json.dumps(data), "application/json"))]
    files += [("assets", (name, content)) for name, content in (assets or {}).items()]
    return client.post("/v1/jobs", files=files, data={**PLATFORM, **form})


def events(client: httpx.Client, job_id: str) -> list[tuple[str, dict]]:
    found, kind = [], None
    with client.stream("GET", f"/v1/jobs/{job_id}/events", timeout=120) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                found.append((kind, json.loads(line[6:])))
    return found


def wait_state(client: httpx.Client, job_id: str, states, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")


def leftovers(home: Path) -> list[str]:
    uploads = home / "uploads"
    return sorted(p.name for p in uploads.iterdir() if p.name.startswith(".")) if uploads.exists() else []


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("serve"), tokens=["alpha", "beta"], env=LIMITS, args=["-j", "1"]) as running:
        yield running


@pytest.fixture(scope="module")
def idle(tmp_path_factory):
    """No workers: jobs stay queued. A small queue, and a rate limit the `rate` token meets."""
    env = {"REEL_QUEUE_MAX": "2", "REEL_RATE_LIMIT": "20"}
    with serve(tmp_path_factory.mktemp("idle"), tokens=["alpha", "beta", "rate"], workers=False, env=env) as running:
        yield running


@pytest.fixture
def alpha(server):
    with server.client("alpha") as client:
        yield client


# -- the happy path ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished(server, tmp_path_factory):
    """One job with an image in a subfolder, run to the end: (its events, its last record, the deck folder)."""
    folder = tmp_path_factory.mktemp("local")
    (folder / "img").mkdir()
    (folder / "img" / "dot.png").write_bytes(png(32, 18))
    data = deck(slides=1) | {
        "slides": [
            {"kind": "title", "title": "Hi", "duration": 1.0},
            {"kind": "image", "file": "img/dot.png", "duration": 1.0},
        ]
    }
    (folder / "tiny.json").write_text(json.dumps(data))
    with server.client("alpha") as client:
        response = submit(client, data, {"img/dot.png": (folder / "img" / "dot.png").read_bytes()})
        assert response.status_code == 201, response.text
        assert response.headers["location"] == f"/v1/jobs/{response.json()['id']}"
        seen = events(client, response.json()["id"])
        job = client.get(f"/v1/jobs/{response.json()['id']}").json()
    return seen, job, folder


def test_a_submitted_job_streams_its_progress_and_ends_done(finished):
    seen, job, _ = finished
    assert seen[0][0] == "state" and seen[0][1]["state"] in ("queued", "running")
    assert seen[-1][0] == "state" and seen[-1][1]["state"] == "done"
    progress = [data for kind, data in seen if kind == "progress"]
    assert progress and progress[-1]["frame"] == progress[-1]["frames"] > 0
    assert job["state"] == "done" and job["error"] is None and job["progress"]["fraction"] == 1.0
    assert {o["kind"] for o in job["outputs"]} == {"video", "thumbnail", "report"}


def test_the_downloaded_video_decodes_and_matches_a_local_render(finished, alpha, tmp_path):
    from engine.api import render

    _, job, folder = finished
    video = next(o for o in job["outputs"] if o["kind"] == "video")
    response = alpha.get(video["url"])
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    assert len(response.content) == video["bytes"]
    (tmp_path / "got.mp4").write_bytes(response.content)
    with av.open(str(tmp_path / "got.mp4")) as container:
        frames = [f for f in container.decode(video=0)]
        codec = container.streams.video[0].codec_context.name
    local = render(folder / "tiny.json", tmp_path / "local.mp4", platform="160x90@10", quality="draft")
    assert (len(frames), frames[0].width, frames[0].height) == (local.frames, local.width, local.height)
    report = job["reports"][0]
    same = ("frames", "width", "height", "fps", "duration", "encoder")
    assert {k: report[k] for k in same} == {k: getattr(local, k) for k in same}
    assert codec == "h264"


def test_thumbnail_and_report_have_their_content_types(finished, alpha):
    _, job, _ = finished
    by_kind = {o["kind"]: o for o in job["outputs"]}
    thumb = alpha.get(by_kind["thumbnail"]["url"])
    assert thumb.headers["content-type"] == "image/png" and thumb.content.startswith(b"\x89PNG")
    report = alpha.get(by_kind["report"]["url"] + "?download=1")
    assert report.headers["content-type"] == "application/json"
    assert report.headers["content-disposition"] == 'attachment; filename="report.json"'
    assert report.json()["reports"][0]["frames"] == job["reports"][0]["frames"]
    assert "/" not in report.json()["reports"][0]["path"]  # no server paths
    assert alpha.get(f"/v1/jobs/{job['id']}/outputs/secret.txt").status_code == 404


def test_a_range_request_gets_206_and_exactly_those_bytes(finished, alpha):
    _, job, _ = finished
    url = next(o for o in job["outputs"] if o["kind"] == "video")["url"]
    whole = alpha.get(url)
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"].startswith("inline; filename")
    part = alpha.get(url, headers={"Range": "bytes=100-299"})
    assert part.status_code == 206 and part.content == whole.content[100:300]
    assert part.headers["content-range"] == f"bytes 100-299/{len(whole.content)}"


def test_jobs_are_listed_newest_first_only_for_their_token(finished, server):
    _, job, _ = finished
    with server.client("alpha") as a, server.client("beta") as b:
        assert job["id"] in [j["id"] for j in a.get("/v1/jobs").json()["jobs"]]
        assert b.get("/v1/jobs").json()["jobs"] == []
        assert [j["id"] for j in a.get("/v1/jobs?state=done").json()["jobs"]][-1:] != []
        assert a.get("/v1/jobs?state=nonsense").status_code == 422


# -- auth ---------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic YWxwaGE="}])
def test_no_token_or_a_wrong_one_gets_401(server, headers):
    for method, path in [("GET", "/v1/jobs"), ("POST", "/v1/jobs"), ("GET", "/metrics"), ("GET", "/docs")]:
        response = httpx.request(method, server.url + path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer" and "token" in response.json()["error"]


def test_a_job_is_invisible_to_another_token(finished, server):
    _, job, _ = finished
    with server.client("beta") as beta:
        for method, path in [
            ("GET", f"/v1/jobs/{job['id']}"),
            ("DELETE", f"/v1/jobs/{job['id']}"),
            ("GET", f"/v1/jobs/{job['id']}/events"),
            ("GET", job["outputs"][0]["url"]),
            ("GET", f"/v1/jobs/{job['id'][:6]}"),  # no prefix matching either
        ]:
            assert beta.request(method, path).status_code == 404, path
        assert beta.get("/v1/jobs/000000000000").json() == {"error": "no job '000000000000'"}


def test_the_session_cookie_stands_for_the_token_until_logout(finished, server):
    _, job, _ = finished
    with server.client() as browser:
        assert browser.post("/v1/session", json={"token": "wrong"}).status_code == 401
        opened = browser.post("/v1/session", json={"token": "alpha"})
        assert opened.status_code == 204
        cookie = opened.headers["set-cookie"].lower()
        assert "reel_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        assert browser.get(f"/v1/jobs/{job['id']}").status_code == 200
        assert browser.delete("/v1/session").status_code == 204
        assert browser.get(f"/v1/jobs/{job['id']}").status_code == 401


# -- what a deck may name -------------------------------------------------------------------


def test_every_spec_error_is_listed_with_its_path(alpha, server):
    bad = {"slides": [{"kind": "title", "title": "", "duration": -1}, {"kind": "nope"}]}
    response = submit(alpha, bad)
    assert response.status_code == 422
    paths = [e["path"] for e in response.json()["errors"]]
    assert "slides[0].title" in paths and "slides[0].duration" in paths and len(paths) >= 3
    assert leftovers(server.home) == []


@pytest.mark.parametrize("path", ["/etc/passwd", "/no/such/file.png", "~/secret.png"])
def test_an_absolute_asset_path_is_refused_from_its_text(alpha, path):
    response = submit(alpha, deck(slides=1) | {"slides": [{"kind": "image", "file": path}]})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["path"] == "slides[0].file" and path in error["message"] and "absolute" in error["message"]


@pytest.mark.parametrize("path", ["../secret.png", "img/../../secret.png"])
def test_a_path_that_climbs_out_of_the_upload_is_refused(alpha, path):
    response = submit(alpha, {"slides": [{"kind": "image", "file": path}]}, {"img/x.png": png(4, 4)})
    assert response.status_code == 422
    assert path in response.json()["errors"][0]["message"] and "'..'" in response.json()["errors"][0]["message"]


def test_an_asset_named_outside_the_upload_is_refused(alpha):
    response = submit(alpha, deck(), {"../evil.png": png(4, 4)})
    assert response.status_code == 422 and response.json()["errors"][0]["path"] == "../evil.png"


def test_a_missing_asset_is_422_naming_it(alpha):
    response = submit(alpha, {"slides": [{"kind": "image", "file": "img/never-sent.png"}]})
    assert response.status_code == 422 and "never-sent.png" in json.dumps(response.json())


def zip_of(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, target)
    return out.getvalue()


@pytest.mark.parametrize(
    "bundle",
    [
        zip_of({"deck.json": json.dumps(deck()).encode(), "../escape.txt": b"x"}),
        zip_of({"deck.json": json.dumps(deck()).encode()}, links={"img/dot.png": "/etc/passwd"}),
    ],
    ids=["dotdot-entry", "symlink-entry"],
)
def test_a_zip_that_escapes_or_holds_a_symlink_is_refused(alpha, server, bundle):
    response = alpha.post("/v1/jobs", files={"bundle": ("b.zip", bundle)}, data=PLATFORM)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["path"] in ("../escape.txt", "img/dot.png")
    assert leftovers(server.home) == []


def test_a_zip_bundle_with_its_assets_is_accepted(alpha):
    data = {"slides": [{"kind": "image", "file": "img/dot.png", "duration": 1.0}]}
    bundle = zip_of({"deck.json": json.dumps(data).encode(), "img/dot.png": png(8, 8)})
    response = alpha.post("/v1/jobs", files={"bundle": ("b.zip", bundle)}, data=PLATFORM)
    assert response.status_code == 201, response.text
    assert wait_state(alpha, response.json()["id"], JobState.FINAL)["state"] == "done"


def test_a_user_shader_is_refused_unless_allowed(alpha):
    shader = b"vec4 transition(vec2 uv) { return mix(getFromColor(uv), getToColor(uv), progress); }"
    data = deck() | {"defaults": {"transition": {"file": "fx/wipe.glsl", "duration": 0.3}}}
    response = submit(alpha, data, {"fx/wipe.glsl": shader})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["path"] == "defaults.transition.file"
    assert "fx/wipe.glsl" in error["message"] and "REEL_ALLOW_USER_SHADERS" in error["message"]


# -- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "data", "assets", "form"),
    [
        ("REEL_MAX_ASSETS", deck(), {f"a{i}.png": png(2, 2) for i in range(4)}, {}),
        ("REEL_MAX_UPLOAD_MB", deck(), {"big.bin": b"\0" * 600_000}, {}),
        (
            "REEL_MAX_IMAGE_PIXELS",
            {"slides": [{"kind": "image", "file": "bomb.png"}]},
            {"bomb.png": png(200, 200)},
            {},
        ),
        ("REEL_MAX_SLIDES", deck(slides=41), {}, {}),
        ("REEL_MAX_AUDIO_SECONDS", deck(audio={"music": "m.wav"}), {"m.wav": wav(2.0)}, {}),
        ("REEL_MAX_VIDEO_GIGAPIXELS", deck(), {}, {"platform": "1920x1080@30", "quality": "standard"}),
    ],
)
def test_each_limit_answers_413_naming_its_setting(alpha, server, limit, data, assets, form):
    response = submit(alpha, data, assets, **form)
    assert response.status_code == 413, response.text
    assert response.json()["limit"] == limit and limit in response.json()["error"]
    assert leftovers(server.home) == []


def test_a_request_body_over_the_limit_is_413(alpha):
    response = submit(alpha, deck(), {"huge.bin": b"\0" * 2_500_000})
    assert response.status_code == 413 and response.json()["limit"] == "REEL_MAX_REQUEST_MB"


def test_an_unknown_platform_is_422(alpha):
    response = submit(alpha, deck(), platform="atari")
    assert response.status_code == 422 and response.json()["errors"][0]["path"] == "platform"


def test_an_unknown_format_is_422_and_a_gif_job_is_accepted(alpha):
    response = submit(alpha, deck(), format="avi")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["path"] == "format" and "mp4, webm, gif" in error["message"]
    job = submit(alpha, deck(), format="gif", platform="160x90@10")
    assert job.status_code == 201, job.text
    alpha.delete(f"/v1/jobs/{job.json()['id']}")


# -- the queue and the rate ------------------------------------------------------------------


def test_a_full_queue_answers_429_with_retry_after_and_keeps_nothing(idle):
    with idle.client("alpha") as client:
        first = [submit(client, deck()) for _ in range(2)]
        assert [r.status_code for r in first] == [201, 201]
        full = submit(client, deck())
        assert full.status_code == 429 and int(full.headers["retry-after"]) > 0
        assert full.json()["limit"] == "REEL_QUEUE_MAX"
        assert len(list((idle.home / "uploads").iterdir())) == 2
        # Cancel frees a place.
        cancelled = client.delete(f"/v1/jobs/{first[0].json()['id']}")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        assert submit(client, deck()).status_code == 201


def test_the_rate_limit_answers_429_with_retry_after(idle):
    with idle.client("rate") as client:
        codes = [client.get("/v1/jobs").status_code for _ in range(25)]
        assert codes[:20] == [200] * 20 and set(codes[20:]) == {429}
        limited = client.get("/v1/jobs")
        assert int(limited.headers["retry-after"]) >= 1 and "REEL_RATE_LIMIT" in limited.json()["error"]
    with idle.client("beta") as other:  # per token
        assert other.get("/v1/jobs").status_code == 200


def test_a_running_job_can_be_cancelled(tmp_path):
    # 160 s at 640x360, every frame composited and coded: far longer than the cancel takes.
    # (Its own server: the shared one allows only tiny videos, which finish in a blink.)
    with serve(tmp_path, tokens=["alpha"], args=["-j", "1"]) as server, server.client("alpha") as alpha:
        long = {"slides": [MOVING] * 40}
        response = submit(alpha, long, {"dot.png": png(32, 18)}, platform="640x360@30", quality="standard")
        assert response.status_code == 201
        job_id = response.json()["id"]
        wait_state(alpha, job_id, ("running",) + JobState.FINAL)
        assert alpha.delete(f"/v1/jobs/{job_id}").status_code == 200
        assert wait_state(alpha, job_id, JobState.FINAL)["state"] == "cancelled"


# -- service endpoints ------------------------------------------------------------------------


def test_health_readiness_metrics_docs_and_page(server, idle, alpha):
    assert httpx.get(server.url + "/healthz").json() == {"ok": True}
    assert httpx.get(server.url + "/readyz").json()["ready"] is True
    assert httpx.get(idle.url + "/readyz").status_code == 200
    metrics = alpha.get("/metrics")
    assert metrics.status_code == 200 and "reel_jobs" in metrics.text
    assert "/v1/jobs" in alpha.get("/openapi.json").json()["paths"]
    docs = alpha.get("/docs").text
    assert "swagger" in docs.lower()
    assert "https://" not in docs and "http://" not in docs  # every script and style served here, not a CDN
    for asset in ("/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"):
        assert asset in docs
        fetched = httpx.get(server.url + asset)
        assert fetched.status_code == 200 and len(fetched.content) > 10_000
    page = httpx.get(server.url + "/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


# -- shutdown ---------------------------------------------------------------------------------


def test_sigterm_refuses_new_jobs_and_requeues_what_runs(tmp_path):
    with (
        serve(tmp_path, tokens=["alpha"], args=["-j", "1", "--grace", "0.5"]) as server,
        server.client("alpha") as client,
    ):
        # Two minutes of a camera moving over a picture at 720p, every frame composited and
        # coded: still rendering when the 0.5 s grace runs out. (Two minutes of still slides
        # were once long enough; held frames now cost next to nothing.)
        long_job = submit(
            client, {"slides": [MOVING] * 30}, {"dot.png": png(32, 18)}, platform="1280x720@30", quality="standard"
        )
        job_id = long_job.json()["id"]
        wait_state(client, job_id, ("running",))
        server.process.terminate()
        deadline = time.monotonic() + 10
        while httpx.get(server.url + "/readyz").status_code != 503 and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = submit(client, deck())
        assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
        assert server.stop() == 0
    record = JobStore(tmp_path / "home").get(job_id)
    assert record.state == JobState.QUEUED and record.history[-1]["outcome"] == "requeued"


# -- uploads ----------------------------------------------------------------------------------


def test_finished_jobs_uploads_are_swept_and_unfinished_ones_kept(tmp_path):
    store = JobStore(tmp_path)
    jobs = {}
    for name in ("done", "queued", "cancelled"):
        job = RenderJob((OutputRequest(),), deck={"slides": [{"kind": "title", "title": name}]}, id=f"{name}0000000")
        store.submit(job)
        folder = upload_folder(tmp_path, job.id)
        folder.mkdir(parents=True)
        (folder / "deck.json").write_text("{}")
        jobs[name] = job.id
    store.cancel(jobs["cancelled"])
    claimed = store.claim("host:1:1", lease_s=60)
    while claimed is not None and claimed.id != jobs["done"]:
        store.requeue(claimed.id, "not this one")
        claimed = store.claim("host:1:1", lease_s=60)
    store.finish(jobs["done"], [])
    orphan, staging = tmp_path / "uploads" / "feedfacecafe", tmp_path / "uploads" / ".incoming-0123456789ab"
    for folder in (orphan, staging):
        folder.mkdir()
    fresh = tmp_path / "uploads" / ".incoming-fresh0000000"
    fresh.mkdir()
    old = time.time() - 3600
    for folder in (orphan, staging):
        os.utime(folder, (old, old))

    removed = sweep_uploads(tmp_path, store)

    assert sorted(removed) == sorted([jobs["done"], jobs["cancelled"], orphan.name, staging.name])
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == sorted([jobs["queued"], fresh.name])
