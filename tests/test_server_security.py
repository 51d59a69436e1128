"""`reel serve` facing hostile input that takes a server of its own: an endless user
shader (with REEL_ALLOW_USER_SHADERS on), and the CLI's start-up refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from engine.jobs import JobState
from tests.serving import REPO, serve
from tests.test_server import PLATFORM, deck, submit, wait_state

# As good as endless: llvmpipe stops any loop after 65535 iterations, so the loop is
# bounded there, and each iteration does 64 sines (about 4 million a pixel). Whether the
# probe refuses it (RenderTimeoutError) or a frame never comes and the supervisor
# kills the worker (REEL_FRAME_TIMEOUT), the job fails and the worker is not stuck.
_STEP = "acc += abs(sin(acc + i * uv.x)) + 1e-6; " * 64
ENDLESS = (
    "vec4 transition(vec2 uv) {\n"
    "    float acc = 0.0;\n"
    f"    for (float i = 0.0; acc >= 0.0; i += 1.0) {{ {_STEP}}}\n"
    "    return mix(getFromColor(uv), getToColor(uv), clamp(progress + acc, 0.0, 1.0));\n"
    "}\n"
).encode()


@pytest.mark.slow
@pytest.mark.gl
def test_an_endless_user_shader_fails_its_job_and_the_worker_serves_the_next(tmp_path, gl_compositor):
    gl_compositor(16, 16)  # skips, saying why, where no EGL context can be made
    env = {"REEL_ALLOW_USER_SHADERS": "1", "REEL_FRAME_TIMEOUT": "3", "REEL_RATE_LIMIT": "100000"}
    with serve(tmp_path, tokens=["alpha"], env=env, args=["-j", "1"]) as server, server.client("alpha") as client:
        data = deck(slides=2) | {"defaults": {"transition": {"file": "fx/endless.glsl", "duration": 0.5}}}
        stuck = submit(client, data, {"fx/endless.glsl": ENDLESS})
        assert stuck.status_code == 201, stuck.text
        failed = wait_state(client, stuck.json()["id"], JobState.FINAL, timeout=90)
        assert failed["state"] == "failed" and failed["error"]["type"] == "RenderTimeoutError"
        assert failed["attempts"] == 1  # not retried: it would hang again
        after = submit(client, deck())
        assert wait_state(client, after.json()["id"], JobState.FINAL, timeout=60)["state"] == "done"


def run_serve(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "serve", *args],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", **env},
        timeout=60,
        check=False,
    )


def test_a_plain_token_in_the_setting_is_refused_at_start(tmp_path):
    done = run_serve(env={"REEL_HOME": str(tmp_path), "REEL_API_TOKENS": "my-secret-token"})
    assert done.returncode == 2 and "REEL_API_TOKENS" in done.stderr and "my-secret-token" not in done.stderr


def test_no_tokens_and_no_insecure_flag_is_refused(tmp_path):
    done = run_serve(env={"REEL_HOME": str(tmp_path)})
    assert done.returncode == 2 and "reel token" in done.stderr


def test_insecure_no_auth_is_only_for_loopback(tmp_path):
    done = run_serve("--host", "0.0.0.0", "--insecure-no-auth", env={"REEL_HOME": str(tmp_path)})
    assert done.returncode == 2 and "loopback" in done.stderr


def test_without_the_extra_serve_names_it_and_exits_2(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "fastapi.py").write_text("raise ImportError('fastapi is not installed (test)')\n")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main(['serve']))"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{blocker}:{REPO}", "PATH": "/usr/bin:/bin", "REEL_HOME": str(tmp_path)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "reel: error: reel serve needs the server extra: pip install 'reel-engine[server]'"
    ]


def test_reel_token_prints_a_token_and_its_hash_entry():
    from tests.serving import token_hash

    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "token", "--name", "ci"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=True,
    )
    token = done.stdout.splitlines()[0].rsplit(" ", 1)[1]
    entry = done.stdout.splitlines()[1].rsplit(" ", 1)[1]
    assert entry == f"ci={token_hash(token)}"
    assert json.dumps(PLATFORM)  # the shared test constants import cleanly
