"""Video clips as slides: frames at the right times, trim, fps, hold/loop, fit, sound, errors."""

from __future__ import annotations

import math

import av
import numpy as np
import pytest
from PIL import Image

import engine
from engine.audio import SAMPLE_RATE, AudioPlan, ClipCue, mix
from engine.clips import ClipReader, probe_clip
from engine.errors import AssetError, SpecError
from engine.spec import load_deck
from tests.helpers import decode_frames

SOURCE_FPS = 25
W, H = 320, 180
PLATFORM = "320x180@10"


def _picture(k: int, width: int = W, height: int = H) -> np.ndarray:
    """Source frame k: a grey ramp moving 4 px a frame and a light bar moving 6 px a frame."""
    x = np.arange(width)
    ramp = (40 + ((x + 4 * k) % 160)).astype(np.uint8)
    image = np.repeat(np.repeat(ramp[None, :, None], height, axis=0), 3, axis=2)
    bar = (6 * k) % (width - 24)
    image[:, bar : bar + 24] = 235
    image[: height // 3, :20] = 30 + (k % 8) * 25  # a counter block
    return image


def make_clip(path, seconds=4.0, width=W, height=H, sound=True, amplitude=0.5, bt709=False):
    """An H.264 clip of `seconds` at 25 fps (and a 440 Hz tone) from numbers we control;
    `bt709` tags it BT.709 (what the output writes: the clip then goes straight to NV12)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=SOURCE_FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "12", "preset": "veryfast", "g": "25"}
        if bt709:
            video.options["x264-params"] = "colormatrix=bt709:colorprim=bt709:transfer=bt709"
        audio = None
        if sound:
            audio = out.add_stream("aac", rate=SAMPLE_RATE)
            audio.layout = "stereo"
        for k in range(round(seconds * SOURCE_FPS)):
            frame = av.VideoFrame.from_ndarray(_picture(k, width, height), format="rgb24")
            frame.pts = k
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            n = round(seconds * SAMPLE_RATE)
            t = np.arange(n) / SAMPLE_RATE
            tone = (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, n, 1024):
                block = np.stack([tone[start : start + 1024]] * 2)
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = SAMPLE_RATE, start
                for packet in audio.encode(frame):
                    out.mux(packet)
            for packet in audio.encode():
                out.mux(packet)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4")


@pytest.fixture(scope="module")
def source_frames(clip):
    """The clip as a decoder shows it (the source is lossy too), by frame number."""
    with av.open(str(clip)) as container:
        return {round(f.time * SOURCE_FPS): f.to_ndarray(format="rgb24") for f in container.decode(video=0)}


def _nearest(seconds: float) -> int:
    """The source frame nearest to `seconds`; halfway between two, the later one."""
    return math.floor(seconds * SOURCE_FPS + 0.5 + 1e-9)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def _deck(clip, **video):
    return {"slides": [{"kind": "video", "file": str(clip), **video}]}


def _best(frame, source_frames, k, reach=3):
    """(PSNR against source frame k, the source frame nearby that matches best)."""
    scores = {j: psnr(frame, source_frames[j]) for j in range(k - reach, k + reach + 1) if j in source_frames}
    return scores[k], max(scores, key=scores.__getitem__)


def test_clip_frames_match_the_source_at_their_times_trimmed_and_resampled(tmp_path, clip, source_frames):
    deck = load_deck(_deck(clip, trim=[1.0, 3.0]))
    assert deck.slide_duration(0) == pytest.approx(2.0)  # the trimmed clip's length
    report = engine.render(deck, tmp_path / "out.mp4", platform=PLATFORM, compositor="cpu")
    assert report.frames == 20
    frames = decode_frames(tmp_path / "out.mp4", set(range(20)))
    for f, frame in frames.items():
        k = _nearest(1.0 + f / 10)  # 25 fps → 10 fps: the nearest source frame
        db, best = _best(frame, source_frames, k)
        assert db >= 35, f"output frame {f}: {db:.1f} dB against source frame {k}"
        assert best == k, f"output frame {f} looks like source frame {best}, not {k}"


def test_a_clip_shorter_than_its_slide_holds_its_last_frame(tmp_path, clip, source_frames):
    deck = load_deck(_deck(clip, trim=[0.0, 1.0], duration=2.0))
    engine.render(deck, tmp_path / "hold.mp4", platform=PLATFORM, compositor="cpu")
    frames = decode_frames(tmp_path / "hold.mp4", {4, 12, 16, 19})
    assert _best(frames[4], source_frames, 10)[1] == 10
    for f in (12, 16, 19):  # after 1.0 s: the last frame before the trim's end (0.96 s)
        db, best = _best(frames[f], source_frames, 24)
        assert best == 24 and db >= 35, f


def test_a_looping_clip_starts_again(tmp_path, clip, source_frames):
    deck = load_deck(_deck(clip, trim=[0.0, 1.0], duration=2.4, loop=True))
    engine.render(deck, tmp_path / "loop.mp4", platform=PLATFORM, compositor="cpu")
    frames = decode_frames(tmp_path / "loop.mp4", {4, 12, 14, 22})
    for f in (4, 12, 14, 22):
        k = _nearest(math.fmod(f / 10, 1.0))
        db, best = _best(frames[f], source_frames, k)
        assert best == k and db >= 35, (f, k, best, db)


@pytest.mark.parametrize("compositor", ["cpu", "gl"])
def test_transitions_into_and_out_of_a_clip_blend_its_live_frames(
    tmp_path, clip, source_frames, compositor, gl_compositor
):
    if compositor == "gl":
        gl_compositor(16, 16)
    deck = load_deck(
        {
            "defaults": {"transition": {"name": "fade", "duration": 0.4}},
            "slides": [
                {"kind": "text", "text": ".", "background": "#202020", "duration": 1.0},
                {"kind": "video", "file": str(clip), "trim": [0.0, 2.0]},
                {"kind": "text", "text": ".", "background": "#c0c0c0", "duration": 1.0},
            ],
        }
    )
    report = engine.render(deck, tmp_path / "fades.mp4", platform=PLATFORM, compositor=compositor)
    assert report.frames == 32  # 1 + 2 + 1 − 2 × 0.4 s at 10 fps
    # The fade in: frames 6..9 (slide 1 starts at 0.6 s), 4 frames at (k + 1) / 5.
    # The fade out: frames 22..25 (slide 2 starts at 2.2 s).
    frames = decode_frames(tmp_path / "fades.mp4", {7, 8, 23, 24})
    first = engine.render_frame(deck, 0.3, platform=PLATFORM, compositor="cpu").astype(np.float64)
    last = engine.render_frame(deck, 3.0, platform=PLATFORM, compositor="cpu").astype(np.float64)
    for f, other, progress, into in ((7, first, 2 / 5, True), (8, first, 3 / 5, True), (23, last, 2 / 5, False)):
        t = f / 10 - 0.6  # seconds into the clip slide
        live = source_frames[_nearest(t)].astype(np.float64)
        expected = other + (live - other) * progress if into else live + (other - live) * progress
        assert psnr(frames[f], np.clip(expected, 0, 255)) >= 33, f
        # Not a still picture: the clip's frame at that moment, not its first or last.
        for frozen in (source_frames[0], source_frames[49]):
            stale = other + (frozen - other) * progress if into else frozen + (other - frozen) * progress
            assert psnr(frames[f], np.clip(stale, 0, 255)) < 30, f


@pytest.mark.parametrize(
    ("fit", "size", "crop", "paste"),
    [
        ("fill", (320, 180), (0, 0), (0, 0)),
        ("cover", (320, 320), (0, 70), (0, 0)),
        ("contain", (180, 180), (0, 0), (70, 0)),
    ],
)
def test_fit_scales_a_clip_of_another_shape(tmp_path, fit, size, crop, paste):
    square = make_clip(tmp_path / "square.mp4", seconds=0.4, width=180, height=180, sound=False)
    with av.open(str(square)) as container:
        source = Image.fromarray(next(container.decode(video=0)).to_ndarray(format="rgb24"))
    deck = load_deck({"slides": [{"kind": "video", "file": str(square), "fit": fit, "background": "#ff0000"}]})
    frame = engine.render_frame(deck, 0.0, platform=PLATFORM, compositor="cpu")
    expected = np.zeros((H, W, 3), np.uint8)
    expected[...] = (255, 0, 0)
    scaled = np.asarray(source.resize(size, Image.Resampling.BICUBIC))
    w, h = min(size[0], W), min(size[1], H)
    expected[paste[1] : paste[1] + h, paste[0] : paste[0] + w] = scaled[crop[1] : crop[1] + h, crop[0] : crop[0] + w]
    assert psnr(frame, expected) >= 28


def test_clip_sound_joins_the_mix_and_ducks_and_stops(tmp_path, clip):
    deck = load_deck(
        {
            "slides": [
                {"kind": "text", "text": ".", "duration": 1.0, "transition": "cut"},
                {"kind": "video", "file": str(clip), "trim": [0.0, 1.0], "duration": 2.0, "transition": "cut"},
            ]
        }
    )
    engine.render(deck, tmp_path / "sound.mp4", platform=PLATFORM, compositor="cpu")
    with av.open(str(tmp_path / "sound.mp4")) as container:
        assert container.streams.audio
        pcm = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    rate = SAMPLE_RATE

    def rms(a, b):
        return float(np.sqrt(np.mean(pcm[int(a * rate) : int(b * rate)] ** 2)))

    assert rms(0.1, 0.9) < 1e-3  # the text slide is silent
    assert rms(1.1, 1.9) > 0.05  # the clip plays
    assert rms(2.1, 2.9) < 1e-3  # held last frame: the sound stopped with the clip
    # The 440 Hz tone is there.
    part = pcm[int(1.2 * rate) : int(1.2 * rate) + rate // 2]
    spectrum = np.abs(np.fft.rfft(part))
    assert abs(np.argmax(spectrum) * rate / part.size - 440) < 5


def test_clip_volume_scales_its_sound(clip):
    def level(volume, loop=False, seconds=1.0):
        cue = ClipCue(0.0, clip, 1.0, 0.5, seconds, volume, loop, "slides[0].file")
        blocks = np.concatenate(list(mix(AudioPlan(clips=[cue], loudness=None), duration=1.2)), axis=1)
        return blocks[0]

    full, sixty = level(1.0), level(0.6)
    assert np.sqrt(np.mean(full[4800:19200] ** 2)) == pytest.approx(0.5 / math.sqrt(2), rel=0.05)
    ratio = np.sqrt(np.mean(sixty[4800:19200] ** 2)) / np.sqrt(np.mean(full[4800:19200] ** 2))
    assert ratio == pytest.approx(0.6, rel=0.01)
    assert np.abs(full[int(0.55 * SAMPLE_RATE) :]).max() < 1e-3  # 0.5 s trimmed, then silence
    looped = level(1.0, loop=True)
    assert np.sqrt(np.mean(looped[int(0.6 * SAMPLE_RATE) : int(0.95 * SAMPLE_RATE)] ** 2)) > 0.3


def test_clip_sound_ducks_under_a_voiceover(tmp_path, clip):
    voice = tmp_path / "voice.wav"
    with av.open(str(voice), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=SAMPLE_RATE)
        stream.layout = "stereo"
        t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
        tone = (0.3 * np.sin(2 * np.pi * 1000 * t) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.stack([tone, tone]).T.reshape(1, -1).copy(), format="s16", layout="stereo"
        )
        frame.sample_rate = SAMPLE_RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    from engine.audio import Voiceover, VoiceoverCue

    cue = ClipCue(0.0, clip, 0.0, 3.0, 3.0, 1.0, False, "slides[0].file")
    plan = AudioPlan(clips=[cue], voiceovers=[VoiceoverCue(1.0, Voiceover(file=voice))], loudness=None)
    left = np.concatenate(list(mix(plan, duration=3.0)), axis=1)[0]
    spectrum_at = []
    for a in (0.3, 1.5):
        part = left[int(a * SAMPLE_RATE) : int(a * SAMPLE_RATE) + 4800]
        spectrum = np.abs(np.fft.rfft(part))
        spectrum_at.append(spectrum[44])  # 440 Hz at 10 Hz a bin
    assert spectrum_at[1] < spectrum_at[0] * 0.5  # the clip went down under the voice


def test_a_corrupt_or_unsupported_clip_is_an_asset_error_at_load(tmp_path, clip):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(AssetError, match=r"slides\[0\]"):
        load_deck(_deck(broken))
    with pytest.raises(AssetError):
        load_deck(_deck(tmp_path / "missing.mp4"))
    sound_only = tmp_path / "sound.wav"
    with av.open(str(sound_only), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            out.mux(packet)
    with pytest.raises(AssetError, match="no video stream"):
        load_deck(_deck(sound_only))
    with pytest.raises(SpecError, match="trim"):
        load_deck(_deck(clip, trim=[5.0, 6.0]))
    assert any(what == "video clip" for _, _, what in load_deck(_deck(clip)).asset_files())


def test_the_reader_streams_forward_and_holds_two_frames_at_most(clip):
    info = probe_clip(clip)
    assert (info.width, info.height, info.has_audio) == (W, H, True)
    assert info.duration == pytest.approx(4.0, abs=0.05)
    reader = ClipReader(clip, (0.0, 4.0), W, H, "fill")
    try:
        for f in range(40):
            reader.frame(f / 10)
        assert reader.seeks == 1  # one seek to the start, then forward only
        assert reader.decoded <= 100
        reader.frame(0.0)  # back in time: a seek
        assert reader.seeks == 2
    finally:
        reader.close()


@pytest.fixture(scope="module")
def clip709(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("clips709") / "clip709.mp4", seconds=2.0, sound=False, bt709=True)


@pytest.mark.parametrize("compositor", ["cpu", "gl"])
def test_a_bt709_clip_goes_straight_to_nv12_and_matches_its_source(tmp_path, clip709, compositor, gl_compositor):
    if compositor == "gl":
        gl_compositor(16, 16)  # skips, saying why, where no EGL context can be made
    from engine.platforms import resolve_output
    from engine.raster import SlideRasterizer
    from engine.raster.clip import ClipFrames

    deck = load_deck(_deck(clip709, trim=[0.5, 1.5]))
    clips = ClipFrames(SlideRasterizer(deck, resolve_output(PLATFORM)))
    try:
        assert clips.picture(0, 0.0, nv12=True)[2] is True
    finally:
        clips.close()
    with av.open(str(clip709)) as container:
        source = {round(f.time * SOURCE_FPS): f.to_ndarray(format="rgb24") for f in container.decode(video=0)}
    engine.render(deck, tmp_path / "nv12.mp4", platform=PLATFORM, compositor=compositor)
    frames = decode_frames(tmp_path / "nv12.mp4", set(range(10)))
    for f, frame in frames.items():
        k = _nearest(0.5 + f / 10)
        db, best = _best(frame, source, k)
        assert best == k and db >= 35, (f, k, best, db)


@pytest.mark.parametrize("fit", ["cover", "contain"])
def test_the_nv12_and_rgb_ways_agree(tmp_path, fit):
    tagged = make_clip(tmp_path / "tagged.mp4", 0.4, 240, 240, sound=False, bt709=True)
    plain = make_clip(tmp_path / "plain.mp4", 0.4, 240, 240, sound=False)
    frames = [
        engine.render_frame(
            load_deck({"slides": [{"kind": "video", "file": str(f), "fit": fit, "background": "#3050a0"}]}),
            0.1,
            platform=PLATFORM,
            compositor="cpu",
        )
        for f in (tagged, plain)
    ]
    assert psnr(*frames) >= 35


def test_the_logo_sits_over_every_clip_frame(tmp_path, clip, clip709):
    from PIL import Image as PILImage

    logo = np.zeros((40, 40, 4), np.uint8)
    logo[..., 0], logo[..., 3] = 220, 255
    logo[:, :20, 1] = 200
    PILImage.fromarray(logo, "RGBA").save(tmp_path / "logo.png")
    for source in (clip, clip709):  # the RGB and the NV12 way
        deck = load_deck(
            {
                "theme": {"logo": {"file": str(tmp_path / "logo.png"), "size": 0.2, "opacity": 1.0}},
                "slides": [{"kind": "video", "file": str(source), "trim": [0.0, 1.0]}],
            }
        )
        engine.render(deck, tmp_path / "logo.mp4", platform=PLATFORM, compositor="cpu")
        from engine.platforms import resolve_output
        from engine.raster.logo import logo_stamp

        left, top, right, bottom = logo_stamp(deck.theme.logo, W, H, resolve_output(PLATFORM).safe_area.box(W, H)).box
        for f, frame in decode_frames(tmp_path / "logo.mp4", {0, 4, 9}).items():
            box = frame[top + 3 : bottom - 3, left + 3 : right - 3].astype(int)
            half = box.shape[1] // 2
            assert np.abs(box[:, : half - 3].mean(axis=(0, 1)) - (220, 200, 0)).max() < 12, (source.name, f)
            assert np.abs(box[:, half + 3 :].mean(axis=(0, 1)) - (220, 0, 0)).max() < 12, (source.name, f)


@pytest.mark.parametrize("kind", ["cpu", "gl"])
def test_an_nv12_upload_is_shown_as_it_is_and_blends(kind, gl_compositor):
    from engine.colour import nv12_size, rgb_to_nv12
    from engine.composite import FrameSpec
    from engine.composite.cpu import CPUCompositor

    comp = gl_compositor(64, 32) if kind == "gl" else CPUCompositor(64, 32)
    rng = np.random.default_rng(3)
    nv12 = rng.integers(16, 236, nv12_size(64, 32), dtype=np.uint8)
    grey = np.full((32, 64, 3), 128, np.uint8)
    clip_handle, still = comp.upload_nv12("clip#1", nv12.copy()), comp.upload("grey", grey)
    out = np.empty_like(nv12)
    try:
        comp.render(FrameSpec(clip_handle))
        comp.read_nv12(out)
        assert np.array_equal(out, nv12)
        comp.render(FrameSpec(still, clip_handle, "fade", 0.5))
        comp.read_nv12(out)
        expected = (rgb_to_nv12(grey).astype(int) + nv12) / 2
        assert np.abs(out - expected).max() <= 1
    finally:
        comp.release(clip_handle)
        comp.release(still)
