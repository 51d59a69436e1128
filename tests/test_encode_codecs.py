"""Each software encoder, decoded back: codec, profile, level, size, colour tags, GOP."""

from dataclasses import replace
from itertools import groupby

import av
import numpy as np
import pytest

from engine.colour import rgb_to_nv12
from engine.encode import EncodeSettings, open_encoder
from engine.platforms import resolve_output

from .helpers import decode_frames, probe

_B = 3  # AV_PICTURE_TYPE_B

#: encoder → (codec as FFmpeg names it, profile as decoded, MP4 sample entry)
SOFTWARE = {
    "libx264": ("h264", "High", "avc1"),
    "libx265": ("hevc", "Main", "hvc1"),
    "libsvtav1": ("av1", "Main", "av01"),
}


def solid_nv12(width, height, rgb):
    return rgb_to_nv12(np.full((height, width, 3), rgb, np.uint8))


def encode(path, settings, name, frames):
    """Encode `frames` (a list of (nv12, count)) with encoder `name`; return its stats."""
    encoder = open_encoder(name, settings)
    encoder.open(path)
    pts = 0
    for nv12, count in frames:
        encoder.encode_repeated(nv12, pts, count)
        pts += count
    return encoder.close()


def stream_facts(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        types = [int(frame.pict_type) for frame in container.decode(stream)]  # AVPictureType
        return stream.codec.canonical_name, stream.codec_tag, stream.codec_context.level, types


@pytest.mark.parametrize("name", SOFTWARE)
def test_software_encoder_writes_its_codec_conformant_and_tagged(tmp_path, name):
    codec, profile, tag = SOFTWARE[name]
    # 90 rows: a height that is not a multiple of 4, which PyAV's zero-copy wrapper
    # gets wrong (chroma two rows early); the colour check below would catch it.
    settings = EncodeSettings(width=160, height=90, fps=30, codec=codec, gop=10, preset="veryfast")
    red, blue = solid_nv12(160, 90, (220, 30, 30)), solid_nv12(160, 90, (30, 30, 220))
    path = tmp_path / f"{name}.mp4"
    stats = encode(path, settings, name, [(red, 12), (blue, 13)])

    assert (stats.encoder, stats.frames, stats.bytes) == (name, 25, path.stat().st_size)
    info = probe(path)
    assert (info.profile, info.pix_fmt, info.width, info.height, info.frames) == (profile, "yuv420p", 160, 90, 25)
    assert (info.color_primaries, info.color_trc, info.colorspace, info.color_range) == (1, 1, 1, 1)  # BT.709, tv
    assert info.keyframes == [0, 10, 20]  # exactly every gop frames, none at the cut
    assert info.moov_before_mdat and info.duration == pytest.approx(25 / 30, abs=0.02)
    canonical, sample_entry, _, types = stream_facts(path)
    assert (canonical, sample_entry) == (codec, tag)
    if codec != "av1":  # AV1 has no B-frames; H.264/HEVC may use at most 2 in a row
        assert max((len(list(run)) for kind, run in groupby(types) if kind == _B), default=0) <= 2

    decoded = decode_frames(path, {5, 20})
    assert np.abs(decoded[5].astype(int) - (220, 30, 30)).max() <= 6
    assert np.abs(decoded[20].astype(int) - (30, 30, 220)).max() <= 6


@pytest.mark.parametrize("name", SOFTWARE)
def test_caller_may_reuse_the_buffer_as_soon_as_encode_returns(tmp_path, name):
    codec = SOFTWARE[name][0]
    encoder = open_encoder(name, EncodeSettings(width=64, height=64, fps=10, codec=codec, gop=20, preset="ultrafast"))
    encoder.open(tmp_path / "reuse.mp4")
    buffer = np.empty(64 * 64 * 3 // 2, np.uint8)
    for i, rgb in enumerate([(255, 255, 255), (0, 0, 0)] * 3):
        buffer[:] = solid_nv12(64, 64, rgb)
        encoder.encode(buffer, i)
    encoder.close()
    frames = decode_frames(tmp_path / "reuse.mp4", set(range(6)))
    means = [frames[i].mean() for i in range(6)]
    assert all(m > 230 for m in means[0::2]) and all(m < 25 for m in means[1::2]), means


@pytest.mark.parametrize("frames", [1, 2, 3])
@pytest.mark.parametrize("name", SOFTWARE)
def test_videos_shorter_than_the_b_frame_delay_are_whole(tmp_path, name, frames):
    # x265 hands out garbage dts for streams shorter than its reorder delay.
    settings = EncodeSettings(width=64, height=64, fps=10, codec=SOFTWARE[name][0], preset="ultrafast")
    path = tmp_path / "short.mp4"
    assert encode(path, settings, name, [(solid_nv12(64, 64, (0, 128, 255)), frames)]).frames == frames
    assert probe(path).frames == frames


def _level(tmp_path, platform, quality, name, frames=2):
    codec = SOFTWARE[name][0]
    output = resolve_output(platform, quality, codec=codec)
    # Level depends on size, rate and bitrate, not effort: the fastest preset keeps it cheap.
    settings = replace(EncodeSettings.from_output(output), preset="ultrafast")
    grey = np.full(output.width * output.height * 3 // 2, 128, np.uint8)
    path = tmp_path / f"{platform}-{quality}.mp4"
    encode(path, settings, name, [(grey, frames)])
    _, _, level, decoded = stream_facts(path)
    assert len(decoded) == frames
    return level


def test_h264_level_is_4_0_at_1080p30_and_5_2_at_2160p60(tmp_path):
    assert _level(tmp_path, "youtube", "standard", "libx264") == 40
    assert _level(tmp_path, "youtube", "maximum", "libx264") == 42  # 1080p60
    assert _level(tmp_path, "youtube_4k", "maximum", "libx264", frames=4) == 52  # 3840x2160@60


def test_hevc_level_is_4_at_1080p30_and_5_1_at_2160p60(tmp_path):
    # general_level_idc is 30 × the level.
    assert _level(tmp_path, "youtube", "standard", "libx265") == 120
    assert _level(tmp_path, "youtube_4k", "maximum", "libx265", frames=4) == 153
