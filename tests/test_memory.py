"""Memory stays flat with video length: no render holds a video's frames."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import bench_deck

REPO = Path(__file__).resolve().parent.parent


def peak_rss_mb(seconds, out):
    """One render of the bench deck in a fresh process (bench.child): its report and peak RSS.

    The child reports VmHWM, its own peak: ru_maxrss would also count the pytest process
    it was forked from (Linux carries the old image's high-water mark across exec), and a
    full test session grows that past the limit on its own.
    """
    deck = json.dumps(bench_deck(seconds))
    result = subprocess.run(
        [sys.executable, "-m", "bench.child", "engine", deck, str(out), "youtube", "auto"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return {"frames": report["frames"], "maxrss_mb": report["peak_mb"]}


@pytest.mark.slow
def test_peak_rss_of_5_min_render_is_within_15_percent_of_60_s_and_under_350_mb(tmp_path):
    short = peak_rss_mb(60, tmp_path / "short.mp4")
    long = peak_rss_mb(300, tmp_path / "long.mp4")
    assert (short["frames"], long["frames"]) == (1800, 9000)
    assert long["maxrss_mb"] < 350 and short["maxrss_mb"] < 350
    assert abs(long["maxrss_mb"] - short["maxrss_mb"]) / short["maxrss_mb"] < 0.15, (short, long)
