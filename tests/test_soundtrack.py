"""A deck's soundtrack end to end: music, voiceovers, "auto" durations, in the rendered MP4."""

from __future__ import annotations

import json
import math
import sys
from fractions import Fraction

import av
import numpy as np
import pytest

from engine import load_deck, render
from engine.errors import AssetError, SpecError

RATE = 48_000


def _tone(path, seconds: float, frequency: float, level: float = 0.3, rate: int = 44_100) -> None:
    """A mono sine tone written with PyAV (wav)."""
    samples = np.arange(round(seconds * rate)) / rate
    wave = (level * np.sin(2 * math.pi * frequency * samples)).astype(np.float32)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_f32le", rate=rate)
        stream.layout = "mono"
        for start in range(0, wave.size, 4096):
            frame = av.AudioFrame.from_ndarray(wave[None, start : start + 4096], format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def _band_level(block: np.ndarray, frequency: float) -> float:
    """RMS of `block` (mono) near `frequency`: the magnitude of one DFT bin."""
    n = block.size
    phase = np.exp(-2j * math.pi * frequency * np.arange(n) / RATE)
    return float(abs(np.dot(block, phase)) * 2 / n)


@pytest.fixture
def deck_file(tmp_path):
    _tone(tmp_path / "music.wav", 1.5, 440)  # shorter than the video: loops
    _tone(tmp_path / "voice.wav", 1.2, 1500, level=0.5)
    deck = {
        "audio": {"music": "music.wav", "volume": 0.5, "duck": {"amount_db": -12}},
        "defaults": {"transition": {"name": "fade", "duration": 0.4}},
        "slides": [
            {"kind": "title", "title": "Hello", "duration": 1.6},
            {"kind": "title", "title": "Voice", "duration": "auto", "padding": 0.6, "voiceover": "voice.wav"},
            {"kind": "title", "title": "Bye", "duration": 1.0},
        ],
    }
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    return tmp_path / "deck.json"


def test_auto_duration_is_the_voiceover_plus_padding(deck_file):
    deck = load_deck(deck_file)
    assert deck.slide_duration(1) == pytest.approx(1.2 + 0.6, abs=1e-3)
    assert ("slides[1].voiceover.file", deck_file.parent / "voice.wav", "voiceover") in deck.asset_files()


def test_a_render_carries_the_soundtrack_in_time_with_the_slides(deck_file, tmp_path):
    report = render(deck_file, tmp_path / "out.mp4", platform="160x90@30", quality="draft")
    assert report.audio["codec"] == "aac" and report.audio["channels"] == 2
    with av.open(str(tmp_path / "out.mp4")) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (audio.codec_context.name, audio.rate, audio.layout.name) == ("aac", RATE, "stereo")
        frames = sum(1 for _ in container.decode(video))
    with av.open(str(tmp_path / "out.mp4")) as container:
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    video_seconds = frames / report.fps
    assert report.frames == frames
    assert abs(samples.size / RATE - video_seconds) <= 1024 / RATE + 1e-6
    # The voiceover starts on the second slide's first frame: 1.6 − 0.4 = 1.2 s.
    window = round(0.01 * RATE)
    voice = [_band_level(samples[i : i + window], 1500) for i in range(0, samples.size - window, window)]
    onset = next(i for i, level in enumerate(voice) if level > 0.05) * window / RATE
    assert abs(onset - 1.2) <= 1 / report.fps + 0.01
    # The music ducks while the voice speaks.
    music_during = _band_level(samples[round(1.5 * RATE) : round(2.1 * RATE)], 440)
    music_before = _band_level(samples[round(0.3 * RATE) : round(0.9 * RATE)], 440)
    assert music_during < music_before / 2


def test_a_bad_music_file_fails_before_anything_is_rendered(deck_file, tmp_path):
    (tmp_path / "music.wav").write_bytes(b"not audio at all" * 100)
    with pytest.raises(AssetError, match="music.wav"):
        render(deck_file, tmp_path / "out.mp4", platform="160x90@30", quality="draft")
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob(".*.mp4*"))


def test_auto_without_a_voiceover_is_a_spec_error():
    with pytest.raises(SpecError) as caught:
        load_deck({"slides": [{"kind": "title", "title": "A", "duration": "auto"}]})
    assert caught.value.path == "slides[0].duration"


def test_the_soundtrack_is_made_while_the_video_renders(deck_file, tmp_path, monkeypatch):
    """The mix runs on its own thread, started before the first frame, and is muxed in
    at the end: the same samples as muxing it into the finished video afterwards."""
    import threading

    from engine.audio import mux_audio

    mux_module = sys.modules["engine.audio.mux"]
    threads = []
    real_mix = mux_module.mix

    def watched(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real_mix(*args, **kwargs)

    monkeypatch.setattr(mux_module, "mix", watched)
    report = render(deck_file, tmp_path / "out.mp4", platform="160x90@30", quality="draft")
    assert threads == ["reel-soundtrack"]
    assert report.stage_seconds["soundtrack"] > 0
    assert not list(tmp_path.glob(".*.part*"))  # its working file is gone

    # The same soundtrack muxed after the fact, into the silent video.
    silent = tmp_path / "silent.mp4"
    with av.open(str(tmp_path / "out.mp4")) as src, av.open(str(silent), "w") as dst:
        out = dst.add_stream_from_template(src.streams.video[0], opaque=True)
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = out
                dst.mux(packet)
    mux_audio(silent, tmp_path / "after.mp4", load_deck(deck_file).audio_plan(30))

    def decoded(path):
        with av.open(str(path)) as container:
            frames = list(container.decode(audio=0))
        return [f.pts for f in frames], np.concatenate([f.to_ndarray() for f in frames], axis=1)

    (pts_during, during), (pts_after, after) = decoded(tmp_path / "out.mp4"), decoded(tmp_path / "after.mp4")
    assert pts_during == pts_after and np.array_equal(during, after)


def test_a_soundtrack_that_fails_on_its_thread_fails_the_render_and_leaves_nothing(deck_file, tmp_path, monkeypatch):
    mux_module = sys.modules["engine.audio.mux"]

    def broken(*args, **kwargs):
        yield np.zeros((2, 1024), np.float32)
        raise AssetError("music.wav: the file ends in the middle of a packet", tmp_path / "music.wav")

    monkeypatch.setattr(mux_module, "mix", broken)
    with pytest.raises(AssetError, match="ends in the middle"):
        render(deck_file, tmp_path / "out.mp4", platform="160x90@30", quality="draft")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.json", "music.wav", "voice.wav"]


def test_a_render_that_fails_stops_the_soundtrack_thread_and_removes_its_file(deck_file, tmp_path, monkeypatch):
    import threading

    from engine.errors import RenderError
    from engine.frames import SlideSource

    def failing_draw(self, segment, frame, into):
        if frame > 20:
            raise RenderError("the compositor gave up")
        into[:] = 128

    monkeypatch.setattr(SlideSource, "draw", failing_draw)
    with pytest.raises(RenderError, match="gave up"):
        render(deck_file, tmp_path / "out.mp4", platform="160x90@30", quality="draft")
    assert not [t for t in threading.enumerate() if t.name == "reel-soundtrack"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.json", "music.wav", "voice.wav"]
