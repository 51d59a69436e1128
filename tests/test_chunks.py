"""Chunked renders (engine/chunks.py, engine/jobs/chunked.py): chunks cut at keyframes,
rendered by their own worker processes, joined by copying packets; the joined file is
the unchunked render's twin in frames, timestamps, keyframes, tags, profile and level."""

from __future__ import annotations

import itertools
import json
import math
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import engine
from engine.chunks import join_chunks, plan_chunks
from engine.cli import main
from engine.errors import RenderError, SpecError
from engine.jobs import OutputRequest, RenderJob, run_job
from engine.jobs.chunked import ChunkPlan, auto_chunks
from engine.jobs.executor import render_many
from engine.pipeline import render_output
from tests.helpers import probe

SIZE = "320x180@10"  # GOP 20 frames (2 s)


def _tone(path: Path, seconds: float) -> None:
    rate = 44_100
    wave = (0.3 * np.sin(2 * math.pi * 440 * np.arange(round(seconds * rate)) / rate)).astype(np.float32)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_f32le", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(wave[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.fixture(scope="module")
def deck_file(tmp_path_factory) -> Path:
    """15 s: holds, fades, a push, a building bullet slide and music."""
    folder = tmp_path_factory.mktemp("chunks")
    _tone(folder / "music.wav", 20)
    deck = {
        "title": "chunks",
        "audio": {"music": "music.wav", "volume": 0.5},
        "defaults": {"transition": {"name": "fade", "duration": 0.5}},
        "slides": [
            {"kind": "title", "title": "One", "subtitle": "a chunked render", "duration": 3},
            {
                "kind": "bullets",
                "title": "Two",
                "bullets": ["first", "second", "third"],
                "duration": 4,
                "motion": {"build": {"duration": 2}},
            },
            {"kind": "text", "text": "Three", "style": "big", "duration": 3, "transition": {"name": "slideleft"}},
            {"kind": "title", "title": "Four", "duration": 3},
            {"kind": "text", "text": "Five", "style": "big", "duration": 4},
        ],
    }
    (folder / "deck.json").write_text(json.dumps(deck))
    return folder / "deck.json"


def _packets(path: Path) -> list[tuple[int, int, bool]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(p.pts, p.dts, p.is_keyframe) for p in container.demux(stream) if p.dts is not None]


def _luma(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="yuv420p")[:180].astype(np.float64) for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def pair(deck_file, tmp_path_factory) -> dict:
    """The deck rendered whole in this process and in 3 chunks by worker processes."""
    out = tmp_path_factory.mktemp("pair")
    deck = engine.load_deck(deck_file)
    whole = render_output(deck, engine.resolve_output(SIZE), out / "whole.mp4", compositor="cpu")
    [chunked] = render_many(deck_file, out / "c", [SIZE], compositor="cpu", chunks=3, jobs=2)
    return {"whole": (out / "whole.mp4", whole), "chunked": (Path(chunked.path), chunked)}


def test_chunks_are_whole_gops_and_as_even_as_can_be():
    assert plan_chunks(155, 20, 3) == [(0, 60), (60, 100), (100, 155)]
    assert plan_chunks(160, 20, 4) == [(0, 40), (40, 80), (80, 120), (120, 160)]
    assert plan_chunks(30, 20, 8) == [(0, 20), (20, 30)]  # no more chunks than GOPs
    assert plan_chunks(7, 20, 4) == [(0, 7)]
    for count in range(1, 9):
        spans = plan_chunks(1801, 60, count)
        assert spans[0][0] == 0 and spans[-1][1] == 1801 and all(s % 60 == 0 for s, _ in spans)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    with pytest.raises(SpecError):
        plan_chunks(100, 20, 0)


def test_auto_chunks_follow_length_and_workers():
    assert auto_chunks(600, 4) == 4 and auto_chunks(25, 4) == 2 and auto_chunks(9, 8) == 1


def test_the_join_has_the_unchunked_frames_timestamps_keyframes_and_tags(pair):
    (whole_path, whole), (chunked_path, chunked) = pair["whole"], pair["chunked"]
    a, b = probe(whole_path), probe(chunked_path)
    assert b.frames == a.frames == whole.frames == chunked.frames == 150
    assert b.keyframes == a.keyframes == list(range(0, 150, 20))
    assert (b.profile, b.pix_fmt, b.width, b.height, b.fps) == (a.profile, a.pix_fmt, a.width, a.height, a.fps)
    assert (b.color_primaries, b.color_trc, b.colorspace, b.color_range) == (
        a.color_primaries,
        a.color_trc,
        a.colorspace,
        a.color_range,
    )
    assert b.moov_before_mdat
    with av.open(str(whole_path)) as x, av.open(str(chunked_path)) as y:
        assert x.streams.video[0].codec_context.level == y.streams.video[0].codec_context.level
        assert [s.type for s in y.streams] == [s.type for s in x.streams]  # video, audio, cover
        assert y.streams.audio[0].duration * y.streams.audio[0].time_base == pytest.approx(15.0, abs=0.03)
    pa, pb = _packets(whole_path), _packets(chunked_path)
    assert sorted(p for p, _, _ in pa) == sorted(p for p, _, _ in pb)  # every timestamp, once
    dts = [d for _, d, _ in pb]
    assert dts == sorted(dts) and len(set(dts)) == len(dts)


def test_the_joined_frames_match_the_unchunked_ones(pair):
    """Chunk encodes differ from the whole one only by rate control: every frame within
    a high PSNR of the unchunked render's, across each join too."""
    whole, joined = _luma(pair["whole"][0]), _luma(pair["chunked"][0])
    assert len(whole) == len(joined) == 150
    worst = min(10 * math.log10(255**2 / max(np.mean((x - y) ** 2), 1e-9)) for x, y in zip(whole, joined))
    assert worst >= 40, worst


def test_the_report_gives_each_keyframes_psnr_and_each_chunk(pair):
    report = pair["chunked"][1]
    assert sorted(int(k) for k in report.keyframe_psnr) == list(range(0, 150, 20))
    assert all(db is None or db >= 35 for db in report.keyframe_psnr.values())
    assert [c["frame_range"] for c in report.chunks] == [[0, 60], [60, 100], [100, 150]]
    assert [c["keyframes"] for c in report.chunks] == [[0, 20, 40], [60, 80], [100, 120, 140]]
    assert report.audio is not None and report.audio["seconds"] == pytest.approx(15.0, abs=0.03)
    assert report.cover_seconds is not None and "join" in report.stage_seconds
    whole = pair["whole"][1]
    assert (report.profile, report.level, report.deck_sha256) == (whole.profile, whole.level, whole.deck_sha256)
    assert report.profile == "High" and report.created_utc
    assert not any(Path(report.path).parent.glob(".*chunks*"))  # the chunk folder is gone


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg binary on this machine")
def test_the_join_decodes_strictly_with_ffmpeg(pair):
    command = ["ffmpeg", "-v", "error", "-xerror", "-err_detect", "explode", "-i", str(pair["chunked"][0])]
    result = subprocess.run([*command, "-f", "null", "-"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_a_second_run_renders_only_the_missing_chunks(deck_file, tmp_path):
    """A run stopped after one chunk: the next plan reuses it, and the video is whole."""
    job = RenderJob.for_deck(deck_file, [OutputRequest(SIZE)], out_dir=tmp_path, compositor="cpu")
    plan = ChunkPlan.of(job, 3)
    assert len(plan.pending) == 3
    first = plan.jobs[0]
    [report] = run_job(first)
    plan.finished(first, report.to_dict())
    again = ChunkPlan.of(job, 3)
    assert [j.frames for j in again.pending] == [(60, 100), (100, 150)] and again.frames_reused() == 60
    [joined] = render_many(deck_file, tmp_path, [SIZE], compositor="cpu", chunks=3, jobs=1)
    assert joined.chunks[0]["wall_seconds"] == report.to_dict()["wall_seconds"]  # reused, not rendered again
    assert probe(Path(joined.path)).frames == 150


def test_a_chunk_must_start_on_a_keyframe_and_lie_inside_the_video(deck_file, tmp_path):
    deck, output = engine.load_deck(deck_file), engine.resolve_output(SIZE)
    for frames, words in (((10, 40), "keyframe"), ((140, 200), "within")):
        with pytest.raises(SpecError, match=words):
            render_output(deck, output, tmp_path / "c.mp4", compositor="cpu", frames=frames)
    assert not list(tmp_path.iterdir())
    with pytest.raises(SpecError, match="one output, with its path"):
        RenderJob.for_deck(deck_file, [OutputRequest(SIZE)], frames=(0, 20))


def test_chunks_that_do_not_fit_together_are_refused(deck_file, tmp_path):
    deck = engine.load_deck(deck_file)
    a = tmp_path / "a.mp4"
    render_output(deck, engine.resolve_output(SIZE), a, compositor="cpu", frames=(0, 20))
    b = tmp_path / "b.mp4"
    render_output(deck, engine.resolve_output("640x360@10"), b, compositor="cpu", frames=(20, 40))
    with pytest.raises(RenderError, match="does not match the first chunk"):
        join_chunks([a, b], [(0, 20), (20, 40)], tmp_path / "j.mp4", 10)
    with pytest.raises(RenderError, match="do not touch"):
        join_chunks([a, a], [(0, 20), (40, 60)], tmp_path / "j.mp4", 10)
    with pytest.raises(RenderError, match="holds 20 frames"):
        join_chunks([a], [(0, 30)], tmp_path / "j.mp4", 10)


def test_the_cli_takes_chunks(deck_file, tmp_path, capsys):
    target = tmp_path / "out.mp4"
    argv = ["render", str(deck_file), "-p", SIZE, "--compositor", "cpu", "-o", str(target), "-q"]
    assert main([*argv, "--chunks", "2", "--report", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())["outputs"][0]
    assert [c["frame_range"] for c in report["chunks"]] == [[0, 80], [80, 150]]
    assert probe(target).frames == 150
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--chunks", "zero"])
    assert exit_.value.code == 2 and "whole number of chunks" in capsys.readouterr().err


def test_a_chunked_render_has_the_whole_renders_caption_files_and_soft_track(tmp_path):
    """Captions burn into each chunk; the join adds the side files and the soft track
    for the whole video, as a whole render does."""
    (tmp_path / "talk.srt").write_text(
        "1\n00:00:00,500 --> 00:00:03,000\nFirst words\n\n2\n00:00:04,500 --> 00:00:05,500\nAcross the join\n"
    )
    deck = {
        "captions": {"file": "talk.srt", "soft": True},
        "slides": [{"kind": "title", "title": "One", "duration": 3}, {"kind": "title", "title": "Two", "duration": 3}],
    }
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    whole = render_many(tmp_path / "deck.json", tmp_path / "whole", [SIZE], compositor="cpu")[0]
    [joined] = render_many(tmp_path / "deck.json", tmp_path / "chunked", [SIZE], compositor="cpu", chunks=2, jobs=2)
    assert len(joined.chunks) == 2
    for suffix in (".srt", ".vtt"):
        assert Path(joined.path).with_suffix(suffix).read_text() == Path(whole.path).with_suffix(suffix).read_text()

    def track(path: str) -> list:
        with av.open(path) as container:
            stream = container.streams.subtitles[0]
            return [(p.pts * p.time_base, bytes(p)) for p in container.demux(stream) if p.size > 2]

    assert track(joined.path) == track(whole.path) and len(track(joined.path)) == 2
    assert _luma(Path(joined.path))[50].std() > 0  # frames still decode across the join


def test_the_chunked_soundtrack_is_the_whole_renders_sample_for_sample(pair):
    """The driver encodes the soundtrack while the chunks render; the join copies it in."""

    def sound(path):
        with av.open(str(path)) as container:
            frames = list(container.decode(audio=0))
        return [f.pts for f in frames], np.concatenate([f.to_ndarray() for f in frames], axis=1)

    (whole_pts, whole), (joined_pts, joined) = sound(pair["whole"][0]), sound(pair["chunked"][0])
    assert whole_pts == joined_pts and np.array_equal(whole, joined)
