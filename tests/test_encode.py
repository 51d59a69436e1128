import av
import numpy as np
import pytest

from engine.colour import nv12_size, rgb_to_nv12
from engine.encode import ENCODERS, EncoderEntry, EncodeSettings, open_encoder, probe_encoder
from engine.errors import CodecNotSupportedError, SpecError
from engine.platforms import resolve_output

from .helpers import decode_frames, probe

# An encoder FFmpeg does not have: it cannot open anywhere.
BROKEN = EncoderEntry("engine.encode.pyav:PyAVEncoder", "h264", "h264_no_such_encoder")


def solid_nv12(width, height, rgb):
    return rgb_to_nv12(np.full((height, width, 3), rgb, np.uint8))


def test_libx264_probes_ok_and_unknown_encoder_says_why():
    assert probe_encoder("libx264") is None
    assert "unknown encoder" in probe_encoder("no-such-encoder")


def test_encoded_file_is_h264_high_yuv420p_bt709_tv_faststart(tmp_path):
    settings = EncodeSettings(width=320, height=180, fps=30, gop=60)
    encoder = open_encoder("auto", settings)
    path = tmp_path / "clip.mp4"
    encoder.open(path)
    red, blue = solid_nv12(320, 180, (220, 30, 30)), solid_nv12(320, 180, (30, 30, 220))
    encoder.encode_repeated(red, 0, 100)
    encoder.encode(blue, 100)
    encoder.encode_repeated(blue, 101, 49)
    stats = encoder.close()

    assert stats.frames == 150 and stats.bytes == path.stat().st_size and stats.encoder == "libx264"
    info = probe(path)
    assert (info.codec, info.profile, info.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.width, info.height, info.fps, info.frames) == (320, 180, 30.0, 150)
    assert (info.color_primaries, info.color_trc, info.colorspace, info.color_range) == (1, 1, 1, 1)
    assert info.moov_before_mdat
    assert info.keyframes == [0, 60, 120]  # fixed 2 s GOP, no scene-cut keyframes
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.level == 32  # 320x180@30 alone fits 1.2; the 12 Mbit/s cap needs 3.2
        assert stream.codec_context.has_b_frames <= 2
    assert info.duration == pytest.approx(5.0, abs=0.05)

    frames = decode_frames(path, {50, 140})
    assert np.abs(frames[50].astype(int) - (220, 30, 30)).max() <= 3
    assert np.abs(frames[140].astype(int) - (30, 30, 220)).max() <= 3


def test_buffer_can_be_reused_as_soon_as_encode_returns(tmp_path):
    settings = EncodeSettings(width=64, height=64, fps=10, gop=20)
    encoder = open_encoder("libx264", settings)
    encoder.open(tmp_path / "reuse.mp4")
    buffer = np.empty(nv12_size(64, 64), np.uint8)
    for i, rgb in enumerate([(255, 255, 255), (0, 0, 0)] * 5):
        buffer[:] = solid_nv12(64, 64, rgb)
        encoder.encode(buffer, i)
    encoder.close()
    frames = decode_frames(tmp_path / "reuse.mp4", set(range(10)))
    means = [frames[i].mean() for i in range(10)]
    assert all(m > 240 for m in means[0::2]) and all(m < 15 for m in means[1::2])


def test_explicit_encoder_that_cannot_open_is_codec_not_supported_naming_what_works(monkeypatch):
    monkeypatch.setitem(ENCODERS.table, "broken", BROKEN)
    probe_encoder.cache_clear()
    with pytest.raises(CodecNotSupportedError, match="broken") as caught:
        open_encoder("broken", EncodeSettings(width=64, height=64, fps=10))
    message = str(caught.value)
    assert "has no h264_no_such_encoder encoder" in message  # why
    assert "libx264 (h264)" in message and "libx265 (hevc)" in message and "libsvtav1 (av1)" in message  # what works
    probe_encoder.cache_clear()


def test_explicit_hardware_encoder_without_the_hardware_says_ffmpegs_reason_quickly():
    if probe_encoder("h264_nvenc") is None:
        pytest.skip("this machine has NVENC: h264_nvenc opens")
    with pytest.raises(CodecNotSupportedError, match="h264_nvenc") as caught:
        open_encoder("h264_nvenc", EncodeSettings(width=64, height=64, fps=10))
    message = str(caught.value)
    # FFmpeg's own log line, not PyAV's "Operation not permitted".
    assert "Cannot load" in message or "No capable devices" in message or "unsupported device" in message, message
    assert "libx264" in message


def test_auto_skips_what_does_not_open_and_records_why(monkeypatch):
    monkeypatch.setattr(ENCODERS, "table", {"broken": BROKEN, "libx264": ENCODERS["libx264"]})
    probe_encoder.cache_clear()
    fallbacks = []
    encoder = open_encoder("auto", EncodeSettings(width=64, height=64, fps=10), fallbacks)
    assert encoder.name == "libx264"
    assert fallbacks == ["encoder broken unavailable: this PyAV build (FFmpeg " + fallbacks[0].split("(FFmpeg ")[1]]
    assert "has no h264_no_such_encoder encoder" in fallbacks[0]
    probe_encoder.cache_clear()


def test_auto_on_this_machine_records_every_hardware_encoder_it_skipped():
    hardware = ["nvenc", "h264_nvenc", "h264_qsv", "h264_vaapi", "h264_videotoolbox"]
    if any(probe_encoder(name) is None for name in hardware):
        pytest.skip("this machine has a hardware H.264 encoder")
    fallbacks = []
    assert open_encoder("auto", EncodeSettings(width=64, height=64, fps=10), fallbacks).name == "libx264"
    assert [f.split()[1] for f in fallbacks] == hardware
    assert all(": " in f.split("unavailable", 1)[1] for f in fallbacks)  # each with its reason


def test_unknown_encoder_or_codec_is_a_user_error_naming_it():
    with pytest.raises(CodecNotSupportedError, match="h265_magic"):
        open_encoder("h265_magic", EncodeSettings(width=64, height=64, fps=10))
    with pytest.raises(SpecError, match="unknown codec 'vp9'"):
        EncodeSettings(width=64, height=64, fps=10, codec="vp9")
    with pytest.raises(SpecError, match="unknown codec 'vp9'"):
        resolve_output("youtube", codec="vp9")


def test_named_encoder_for_another_codec_says_which_to_use():
    with pytest.raises(CodecNotSupportedError, match="libx265 writes hevc"):
        open_encoder("libx265", EncodeSettings(width=64, height=64, fps=10, codec="h264"))


def test_auto_with_no_working_encoder_is_codec_not_supported(monkeypatch):
    monkeypatch.setattr(ENCODERS, "table", {"broken": BROKEN})
    probe_encoder.cache_clear()
    fallbacks = []
    with pytest.raises(CodecNotSupportedError, match="no encoder for h264"):
        open_encoder("auto", EncodeSettings(width=64, height=64, fps=10), fallbacks)
    assert fallbacks and "broken" in fallbacks[0]
    probe_encoder.cache_clear()


def test_abort_leaves_the_file_for_the_caller_to_delete_without_raising(tmp_path):
    encoder = open_encoder("libx264", EncodeSettings(width=64, height=64, fps=10))
    encoder.open(tmp_path / "a.mp4")
    encoder.encode(solid_nv12(64, 64, (1, 2, 3)), 0)
    encoder.abort()
    encoder.abort()  # twice is fine


@pytest.mark.parametrize("size, sync", [((1920, 1080), "sync-lookahead=0"), ((3840, 2160), "sliced-threads=1")])
def test_x264_runs_its_lookahead_on_the_calling_thread_up_to_1080p_unless_asked(size, sync):
    from engine.encode.pyav import _x264

    lean = _x264(EncodeSettings(*size, fps=30), "libx264")
    assert lean["x264-params"] == sync
    threaded = _x264(EncodeSettings(*size, fps=30, lookahead_thread=True), "libx264")
    # (4K keeps slice threads, which have no lookahead buffer to save)
    assert threaded.get("x264-params") == (None if size == (1920, 1080) else sync)
    assert {k: v for k, v in threaded.items() if k != "x264-params"} == {
        k: v for k, v in lean.items() if k != "x264-params"
    }
