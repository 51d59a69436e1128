"""engine.audio: the deck's audio models, decoding, the mix, and the AAC track in the MP4.

Every sound is generated here with PyAV (sine tones written as wav, mp3, ogg/opus,
m4a, flac), and the video is a 3.5 s 64×64 libx264 clip with B-frames. Timing and
ducking are measured on what decodes back, with a narrow-band (Goertzel-style)
amplitude at the voice's and the music's frequencies.
"""

from __future__ import annotations

import importlib
import math
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from engine.audio import (
    DEFAULT_PADDING,
    AudioPlan,
    AudioSpec,
    DuckSpec,
    MixStats,
    Voiceover,
    VoiceoverCue,
    VoiceoverField,
    auto_duration,
    mix,
    mux_audio,
    probe_audio,
    voiceover_duration,
)
from engine.errors import AssetError, RenderError, SpecError

RATE = 48_000
FPS = 30
VIDEO_SECONDS = 3.5
MUSIC_HZ = 440.0
VOICE_HZ = 1500.0
AAC_FRAME = 1024


# ---------------------------------------------------------------------------------
# Making and measuring sound


def tone(freq: float, seconds: float, rate: int = RATE, amplitude: float = 0.3, phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


def write_audio(path: Path, planes: np.ndarray, rate: int = RATE, codec: str = "pcm_s16le") -> Path:
    """Write (channels, n) floats with `codec`; the container comes from the suffix."""
    planes = np.atleast_2d(planes).astype(np.float32)
    layout = "mono" if planes.shape[0] == 1 else "stereo"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = layout
        for start in range(0, planes.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planes[:, start : start + 1024]), format="fltp", layout=layout
            )
            frame.sample_rate, frame.pts = rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_video(path: Path, seconds: float = VIDEO_SECONDS) -> Path:
    """A small H.264 clip with B-frames and BT.709 tags, like the engine's own output."""
    rng = np.random.default_rng(5)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "bframes": "2"}
        cc = stream.codec_context
        cc.colorspace = cc.color_primaries = cc.color_trc = 1
        for index in range(round(seconds * FPS)):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (64, 64, 3), np.uint8), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def decode_audio(path: Path) -> tuple[np.ndarray, float]:
    """All of `path`'s first audio stream as (2, n) float32, and its first frame's time."""
    with av.open(str(path)) as container:
        frames = list(container.decode(container.streams.audio[0]))
    assert all(f.sample_rate == RATE and f.format.name == "fltp" for f in frames)
    return np.concatenate([f.to_ndarray() for f in frames], axis=1), float(frames[0].time)


def collect(plan: AudioPlan, seconds: float, stats: MixStats | None = None) -> np.ndarray:
    return np.concatenate(list(mix(plan, seconds, stats)), axis=1)


def band(signal: np.ndarray, freq: float, window: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude of `freq` in Hann windows of `signal` (mono), and each window's centre (s)."""
    x = np.asarray(signal, np.float64)
    hann = np.hanning(window)
    probe = hann * np.exp(-2j * np.pi * freq * np.arange(window) / RATE)
    windows = np.lib.stride_tricks.sliding_window_view(x, window)[::hop]
    amplitude = 2 * np.abs(windows @ probe) / hann.sum()
    centres = (np.arange(len(amplitude)) * hop + window / 2) / RATE
    return amplitude, centres


def level(signal: np.ndarray, freq: float, start: float, end: float) -> float:
    """Mean amplitude of `freq` over [start, end) seconds, in 100 ms windows."""
    amplitude, centres = band(signal, freq, 4800, 480)
    return float(amplitude[(centres >= start) & (centres < end)].mean())


def rms(signal: np.ndarray, start: float, end: float) -> float:
    part = signal[..., round(start * RATE) : round(end * RATE)]
    return float(np.sqrt(np.mean(np.square(part, dtype=np.float64))))


def spec(base_dir: Path, **data) -> AudioSpec:
    """The deck's ``audio`` object; loudness off unless given, so the mix keeps the levels asked for.

    Normalisation and the meter are tested in test_loudness.py.
    """
    data.setdefault("loudness", False)
    return AudioSpec.model_validate(data, context={"base_dir": base_dir})


# ---------------------------------------------------------------------------------
# Shared media (made once: a video, and the video with music and a voiceover)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("audio")
    write_video(folder / "video.mp4")
    # Music longer than the video (trimmed), as a mono mp3 at 44.1 kHz.
    write_audio(folder / "music.mp3", tone(MUSIC_HZ, 6.0, 44_100)[None], 44_100, "libmp3lame")
    # A 1 s voiceover burst, mono wav at 44.1 kHz (resampled, copied to both channels).
    write_audio(folder / "voice.wav", tone(VOICE_HZ, 1.0, 44_100)[None], 44_100)
    return folder


@pytest.fixture(scope="module")
def with_voice(media) -> tuple[Path, object]:
    """The video + music (0.5 s fade in, ducked 12 dB) + the voiceover on a slide starting at 1.5 s."""
    music = spec(media, music="music.mp3", fade_in=0.5, duck={"amount_db": -12, "attack": 0.15, "release": 0.4})
    voice = VoiceoverCue(1.5, Voiceover(file=media / "voice.wav"), "slides[1].voiceover")
    plan = AudioPlan(music=music, voiceovers=[voice])
    stats = mux_audio(media / "video.mp4", media / "with_voice.mp4", plan)
    return media / "with_voice.mp4", stats


# ---------------------------------------------------------------------------------
# Models


def test_audio_spec_reads_every_documented_key_and_resolves_paths(tmp_path):
    audio = spec(
        tmp_path,
        music="bed.mp3",
        volume=0.8,
        fade_in=1.0,
        fade_out=2.0,
        loop=False,
        start=3,
        duck={"amount_db": -9, "attack": 0.1, "release": 0.5},
    )
    assert audio.music == tmp_path / "bed.mp3"
    assert (audio.gain, audio.fade_in, audio.fade_out, audio.loop, audio.start) == (0.8, 1.0, 2.0, False, 3.0)
    assert audio.duck == DuckSpec(amount_db=-9, attack=0.1, release=0.5)

    defaults = spec(tmp_path, music="bed.mp3")
    assert (defaults.gain, defaults.loop, defaults.start, defaults.duck) == (1.0, True, 0.0, DuckSpec())
    assert spec(tmp_path, music="bed.mp3", gain_db=-6).gain == pytest.approx(0.501, abs=1e-3)
    assert spec(tmp_path, music="bed.mp3", duck=False).duck is None
    assert spec(tmp_path, music="bed.mp3", duck=True).duck == DuckSpec()


def test_voiceover_accepts_a_file_name_or_an_object(tmp_path):
    # VoiceoverField is the type a slide's "voiceover" key takes.
    field = TypeAdapter(VoiceoverField)
    context = {"base_dir": tmp_path}
    short = field.validate_python("vo1.wav", context=context)
    assert (short.file, short.gain_db, short.delay) == (tmp_path / "vo1.wav", 0.0, 0.0)
    full = field.validate_python({"file": "vo1.wav", "gain_db": -6, "delay": 0.25}, context=context)
    assert (full.gain, full.delay) == (pytest.approx(0.501, abs=1e-3), 0.25)


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        ({"music": "a.mp3", "fadein": 1}, ("fadein",), "did you mean 'fade_in'?"),
        ({"music": "a.mp3", "volume": 0.5, "gain_db": -6}, ("gain_db",), "not both"),
        ({"music": "a.mp3", "duck": {"amount": -6}}, ("duck", "amount"), "did you mean 'amount_db'?"),
        ({"music": "a.mp3", "duck": {"amount_db": 6}}, ("duck", "amount_db"), "less than or equal to 0"),
        ({"music": "a.mp3", "loop": "yes"}, ("loop",), "valid boolean"),
        ({"music": "a.mp3", "fade_out": -1}, ("fade_out",), "greater than or equal to 0"),
        ({"music": "  "}, ("music",), "must not be empty"),
        ({"volume": 1}, ("music",), "required"),
    ],
)
def test_audio_spec_refuses_mistakes_with_a_message(tmp_path, data, where, message):
    with pytest.raises(ValidationError) as caught:
        spec(tmp_path, **data)
    error = caught.value.errors()[0]
    # engine.spec reports "reel" errors at loc + ctx["subpath"].
    subpath = tuple(error.get("ctx", {}).get("subpath", ()))
    assert tuple(error["loc"]) + subpath == where
    assert message in error["msg"]


def test_voiceover_refuses_unknown_keys():
    with pytest.raises(ValidationError, match="did you mean 'delay'"):
        Voiceover.model_validate({"file": "a.wav", "dealy": 1})


# ---------------------------------------------------------------------------------
# Decoding and auto duration


@pytest.mark.parametrize(
    ("name", "codec", "rate", "tolerance"),
    [
        ("vo.wav", "pcm_s16le", 44_100, 0.0),
        ("vo.flac", "flac", 44_100, 0.0),
        ("vo.mp3", "libmp3lame", 44_100, 1 / FPS),
        ("vo.ogg", "libopus", 48_000, 1 / FPS),
        ("vo.m4a", "aac", 48_000, 1 / FPS),
    ],
)
def test_voiceover_duration_is_the_decoded_length(tmp_path, name, codec, rate, tolerance):
    path = write_audio(tmp_path / name, tone(VOICE_HZ, 1.25, rate)[None], rate, codec)
    assert voiceover_duration(path) == pytest.approx(1.25, abs=tolerance + 1e-9)


def test_auto_duration_is_the_voiceover_plus_padding(tmp_path):
    path = write_audio(tmp_path / "vo.wav", tone(VOICE_HZ, 1.25)[None])
    assert DEFAULT_PADDING == 0.5
    assert auto_duration(voiceover_duration(path)) == pytest.approx(1.75)
    assert auto_duration(voiceover_duration(path), padding=0.25, delay=0.5) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="padding"):
        auto_duration(1.0, padding=-1)


# ---------------------------------------------------------------------------------
# The encoded output


def test_output_copies_the_video_packets_and_adds_aac_48k_stereo(media, with_voice):
    out, stats = with_voice

    def video_packets(path):
        with av.open(str(path)) as container:
            return [(bytes(p), p.pts, p.is_keyframe) for p in container.demux(container.streams.video[0]) if p.size]

    assert video_packets(out) == video_packets(media / "video.mp4")
    with av.open(str(out)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (audio.codec_context.name, audio.codec_context.profile) == ("aac", "LC")
        assert (audio.sample_rate, audio.codec_context.layout.name) == (RATE, "stereo")
        assert (video.codec_context.colorspace, video.codec_context.color_primaries) == (1, 1)
        video_seconds = float(video.duration * video.time_base)
        assert float(audio.duration * audio.time_base) == pytest.approx(video_seconds, abs=AAC_FRAME / RATE)
    assert video_seconds == VIDEO_SECONDS
    samples, first = decode_audio(out)
    assert first == 0.0
    assert abs(samples.shape[1] - VIDEO_SECONDS * RATE) <= AAC_FRAME
    assert stats.seconds == VIDEO_SECONDS and stats.music_loops == 0
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat"), "+faststart puts the index first"


def test_voiceover_starts_within_one_video_frame_of_its_slide(with_voice):
    out, _ = with_voice
    left = decode_audio(out)[0][0]
    amplitude, centres = band(left, VOICE_HZ, 480, 48)  # 10 ms windows every 1 ms
    steady = np.median(amplitude[(centres > 1.7) & (centres < 2.3)])
    assert steady == pytest.approx(0.3, rel=0.1)  # a mono voice is full level on each side
    onset = centres[np.argmax(amplitude > steady / 2)]
    assert abs(onset - 1.5) < 1 / FPS, f"voice heard from {onset:.4f} s"


def test_music_ducks_under_the_voice_by_about_amount_db(with_voice):
    out, _ = with_voice
    left = decode_audio(out)[0][0]
    before = level(left, MUSIC_HZ, 0.6, 1.3)
    during = level(left, MUSIC_HZ, 1.6, 2.4)
    after = level(left, MUSIC_HZ, 3.2, 3.45)
    assert 20 * math.log10(during / before) == pytest.approx(-12, abs=1.5)
    assert after == pytest.approx(before, rel=0.1), "the music comes back after the voice"


def test_music_is_trimmed_to_the_video_and_fades_in(with_voice):
    out, _ = with_voice
    left = decode_audio(out)[0][0]
    assert rms(left, 0.0, 0.1) < 0.3 * rms(left, 0.6, 1.2)
    assert level(left, MUSIC_HZ, 3.2, 3.45) > 0.2  # still playing at the very end


def test_output_may_replace_its_input(media, tmp_path):
    video = write_video(tmp_path / "clip.mp4", 1.0)
    mux_audio(video, video, AudioPlan(voiceovers=[(0.0, Voiceover(file=media / "voice.wav"))]))
    with av.open(str(video)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


# ---------------------------------------------------------------------------------
# The mix, sample by sample


def test_voiceover_lands_on_its_exact_sample_in_both_channels(tmp_path):
    # Starts at full amplitude (a cosine), so its first sample is unmistakable.
    voice = write_audio(tmp_path / "vo.wav", tone(VOICE_HZ, 0.5, phase=np.pi / 2)[None])
    for start, delay in ((1.5, 0.0), (1.0, 0.25)):
        plan = AudioPlan(voiceovers=[(start, Voiceover(file=voice, delay=delay))], loudness=None)
        out = collect(plan, 3.0)
        assert out.shape == (2, 3 * RATE)
        first = int(np.flatnonzero(np.abs(out[0]) > 1e-3)[0])
        assert first == round((start + delay) * RATE)
        np.testing.assert_array_equal(out[0], out[1])
        assert abs(out[0, first]) == pytest.approx(0.3, abs=1e-3)


def test_short_music_loops_and_stops_without_loop(tmp_path):
    music = write_audio(tmp_path / "short.ogg", np.vstack([tone(MUSIC_HZ, 1.0)] * 2), codec="libopus")
    stats = MixStats()
    looped = collect(AudioPlan(music=spec(tmp_path, music="short.ogg", duck=False)), 3.5, stats)
    assert looped.shape == (2, round(3.5 * RATE))
    assert stats.music_loops == 3
    for start in (0.2, 1.2, 2.2, 3.2):
        assert level(looped[0], MUSIC_HZ, start, start + 0.2) == pytest.approx(0.3, rel=0.05)

    once = collect(AudioPlan(music=spec(tmp_path, music=str(music), loop=False, duck=False)), 3.5)
    assert once.shape == (2, round(3.5 * RATE))
    assert level(once[0], MUSIC_HZ, 0.2, 0.8) == pytest.approx(0.3, rel=0.05)
    assert np.abs(once[:, round(1.1 * RATE) :]).max() == 0.0


def test_music_longer_than_the_memory_limit_loops_by_decoding_again_sample_for_sample(tmp_path):
    # 6 s (past the 5 s kept in memory) of a chirp, no two periods alike: each pass is
    # read from the file again and must repeat the first exactly, with no gap or overlap.
    seconds = 6.0
    t = np.arange(round(seconds * RATE)) / RATE
    chirp = 0.3 * np.sin(2 * np.pi * (200 * t + 40 * t**2))
    write_audio(tmp_path / "long.wav", np.vstack([chirp, chirp[::-1]]))
    stats = MixStats()
    music = spec(tmp_path, music="long.wav", duck=False, fade_in=0, fade_out=0)
    looped = collect(AudioPlan(music=music), 14.0, stats)
    assert stats.music_loops == 2
    period = round(seconds * RATE)
    assert importlib.import_module("engine.audio.mix")._LOOP_IN_MEMORY < period  # (the path under test)
    np.testing.assert_array_equal(looped[:, period : 2 * period], looped[:, :period])
    np.testing.assert_array_equal(looped[:, 2 * period :], looped[:, : looped.shape[1] - 2 * period])
    assert np.abs(looped[0, :period] - chirp).max() < 1e-4  # (16-bit PCM)


@pytest.mark.parametrize("suffix, codec, rate", [(".wav", "pcm_s16le", 48_000), (".mp3", "libmp3lame", 44_100)])
def test_music_start_skips_into_the_file_on_every_loop(tmp_path, suffix, codec, rate):
    # 1 s of 440 Hz then 1 s of 880 Hz; starting at 1.0 s only the 880 Hz part plays.
    two_tones = np.concatenate([tone(440, 1.0, rate), tone(880, 1.0, rate)])[None]
    path = write_audio(tmp_path / f"two{suffix}", two_tones, rate, codec)
    out = collect(AudioPlan(music=spec(tmp_path, music=path.name, start=1.0, duck=False)), 2.5)[0]
    for start in (0.1, 1.2, 2.1):  # the second window is in the first loop
        assert level(out, 880, start, start + 0.3) > 0.25
        assert level(out, 440, start, start + 0.3) < 0.02


def test_fades_ramp_at_the_video_start_and_end(tmp_path):
    write_audio(tmp_path / "bed.wav", tone(MUSIC_HZ, 4.0)[None])
    out = collect(AudioPlan(music=spec(tmp_path, music="bed.wav", fade_in=1.0, fade_out=1.0)), 3.0)[0]
    steps = [rms(out, t, t + 0.1) for t in np.arange(0.0, 1.0, 0.1)]
    assert steps == sorted(steps) and steps[0] < 0.1 * rms(out, 1.4, 1.6)
    assert rms(out, 2.9, 3.0) < 0.1 * rms(out, 1.4, 1.6)
    assert abs(out[0]) < 1e-6 and abs(out[-1]) < 1e-3


def test_loud_mix_is_limited_under_the_ceiling_instead_of_clipping(tmp_path):
    write_audio(tmp_path / "bed.wav", tone(MUSIC_HZ, 3.0, amplitude=0.6)[None])
    voice = write_audio(tmp_path / "vo.wav", tone(VOICE_HZ, 1.0, amplitude=0.6)[None])
    stats = MixStats()
    plan = AudioPlan(music=spec(tmp_path, music="bed.wav", duck=False), voiceovers=[(0.5, Voiceover(file=voice))])
    out = collect(plan, 3.0, stats)
    unlimited = tone(MUSIC_HZ, 3.0, amplitude=0.6)
    unlimited[RATE // 2 : 3 * RATE // 2] += tone(VOICE_HZ, 1.0, amplitude=0.6)
    ceiling = 10 ** (-1 / 20)  # -1 dBTP, the default with loudness off
    assert np.abs(unlimited).max() > 1.15 and stats.limited_samples > 0
    assert np.abs(out).max() <= ceiling * (1 + 1e-6) and stats.peak == np.abs(out).max()
    assert 20 * math.log10(stats.true_peak) <= -1 + 0.1
    # Turned down where the voice joins (reaching the ceiling), untouched well before and after.
    during = out[0, round(0.7 * RATE) : round(1.3 * RATE)]
    assert np.abs(during).max() == pytest.approx(ceiling, rel=0.01)
    before, after = slice(0, round(0.49 * RATE)), slice(round(2.5 * RATE), None)
    step = 2**-15  # the wav files' 16-bit quantisation
    np.testing.assert_allclose(out[0, before], unlimited[before], atol=step)
    np.testing.assert_allclose(out[0, after], unlimited[after], atol=step)


def test_quiet_mix_passes_through_the_limiter_untouched(tmp_path):
    write_audio(tmp_path / "bed.wav", tone(MUSIC_HZ, 1.0, amplitude=0.5)[None])
    stats = MixStats()
    out = collect(AudioPlan(music=spec(tmp_path, music="bed.wav", volume=1.5)), 1.0, stats)
    assert stats.limited_samples == 0
    np.testing.assert_allclose(out[0], 1.5 * tone(MUSIC_HZ, 1.0, amplitude=0.5), atol=1e-4)


# ---------------------------------------------------------------------------------
# Bad files


@pytest.fixture
def bad_files(tmp_path, media) -> dict[str, Path]:
    corrupt = tmp_path / "noise.mp3"
    corrupt.write_bytes(np.random.default_rng(7).bytes(20_000))
    empty = tmp_path / "empty.wav"
    empty.touch()
    header_only = tmp_path / "silent.wav"  # a valid WAV header and no samples
    with wave.open(str(header_only), "wb") as silent:
        silent.setnchannels(1)
        silent.setsampwidth(2)
        silent.setframerate(RATE)
    return {
        "missing": tmp_path / "missing.mp3",
        "corrupt": corrupt,
        "empty": empty,
        "no samples": header_only,
        "video only": media / "video.mp4",
        "folder": tmp_path,
    }


@pytest.mark.parametrize("kind", ["missing", "corrupt", "empty", "no samples", "video only", "folder"])
def test_unusable_audio_is_an_asset_error_naming_the_file(bad_files, kind):
    path = bad_files[kind]
    for where, check in (("audio.music", probe_audio), ("slides[0].voiceover", voiceover_duration)):
        with pytest.raises(AssetError) as caught:
            check(path, where)
        message = str(caught.value)
        assert message.startswith(f"{where}: audio file ") and str(path) in message
        assert caught.value.file == str(path)
        if kind == "no samples":
            assert message.endswith("contains no audio samples")


def test_a_bad_voiceover_fails_the_mux_before_writing_anything(media, bad_files, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    plan = AudioPlan(voiceovers=[VoiceoverCue(1.0, Voiceover(file=bad_files["corrupt"]), "slides[2].voiceover")])
    with pytest.raises(AssetError, match=r"slides\[2\]\.voiceover: .*noise\.mp3"):
        mux_audio(media / "video.mp4", out_dir / "final.mp4", plan)
    assert list(out_dir.iterdir()) == []


def test_a_failure_while_muxing_leaves_no_temp_file(media, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    plan = AudioPlan(music=spec(media, music="music.mp3", start=30.0))  # past the 6 s file's end
    with pytest.raises(SpecError, match=r"^audio\.start: 30 s is at or past the end"):
        mux_audio(media / "video.mp4", out_dir / "final.mp4", plan)
    assert list(out_dir.iterdir()) == []


def test_mux_checks_the_plan_against_the_video(media, tmp_path):
    plan = AudioPlan(music=spec(media, music="music.mp3"), duration=5.0)
    with pytest.raises(RenderError, match="lasts 5.000 s"):
        mux_audio(media / "video.mp4", tmp_path / "x.mp4", plan)
    assert list(tmp_path.iterdir()) == []
