"""NVENC through PyNvVideoCodec, without a GPU.

Where the library cannot load, the encoder is "unavailable" with the reason, never a
crash. Everything after the library — cutting its Annex-B output into access units,
timestamps, the colour fix in the bitstream, MP4 muxing, hvc1 — is checked with a
stand-in module whose `CreateEncoder` produces raw H.264/HEVC with FFmpeg's x264/x265
the way NVENC hands it over (Annex-B, in-band parameter sets, a few frames of delay,
full range and no colour description).
"""

import sys
import types
from fractions import Fraction

import av
import numpy as np
import pytest

from engine.colour import rgb_to_nv12
from engine.encode import EncodeSettings, auto_encoder, open_encoder, probe_encoder
from engine.encode.nvenc import split_access_units, tag_hvc1
from engine.errors import CodecNotSupportedError

from .helpers import decode_frames, probe


@pytest.fixture(autouse=True)
def fresh_probes():
    probe_encoder.cache_clear()
    yield
    probe_encoder.cache_clear()


def solid_nv12(width, height, rgb):
    return rgb_to_nv12(np.full((height, width, 3), rgb, np.uint8))


def test_nvenc_is_unavailable_not_a_crash_when_pynvvideocodec_is_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "PyNvVideoCodec", None)  # makes `import` fail
    assert probe_encoder("nvenc") == "PyNvVideoCodec is not installed (pip install 'reel-engine[nvenc]')"
    fallbacks = []
    assert auto_encoder("h264", fallbacks=fallbacks) != "nvenc"
    assert fallbacks[0].startswith("encoder nvenc unavailable: PyNvVideoCodec is not installed")


def test_nvenc_import_that_raises_for_a_missing_nvenc_library_is_reported_as_unavailable(tmp_path, monkeypatch):
    # What PyNvVideoCodec 2.2 does on a machine without libnvidia-encode: raise at import.
    package = tmp_path / "PyNvVideoCodec"
    package.mkdir()
    (package / "__init__.py").write_text(
        'raise RuntimeError("Failed to load NVENC library: libnvidia-encode.so.1: cannot open shared object file\\n'
        'Set NVIDIA_DRIVER_CAPABILITIES=compute,utility,video")\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "PyNvVideoCodec", raising=False)
    reason = probe_encoder("nvenc_hevc")
    assert reason == (
        "PyNvVideoCodec cannot load NVENC: RuntimeError: Failed to load NVENC library: "
        "libnvidia-encode.so.1: cannot open shared object file"
    )
    with pytest.raises(CodecNotSupportedError, match="encoder nvenc_hevc does not work on this machine") as caught:
        open_encoder("nvenc_hevc", EncodeSettings(width=64, height=64, fps=10, codec="hevc"))
    assert "libnvidia-encode.so.1" in str(caught.value) and "libx265 (hevc)" in str(caught.value)


def test_gpu_without_an_nvenc_engine_is_unavailable_with_the_session_error(monkeypatch):
    # H100/H200: the library loads, opening a session fails.
    def create_encoder(*args, **kwargs):
        raise RuntimeError("m_nvenc.nvEncOpenEncodeSessionEx(&sessionParams, &m_hEncoder) returned error 2")

    monkeypatch.setitem(sys.modules, "PyNvVideoCodec", types.SimpleNamespace(CreateEncoder=create_encoder))
    assert "nvEncOpenEncodeSessionEx" in probe_encoder("nvenc") and "returned error 2" in probe_encoder("nvenc")
    fallbacks = []
    open_encoder("auto", EncodeSettings(width=64, height=64, fps=10), fallbacks)
    assert "encoder nvenc unavailable: RuntimeError: m_nvenc.nvEncOpenEncodeSessionEx" in fallbacks[0]


# -- a stand-in for PyNvVideoCodec ------------------------------------------------------


class FakeNvEncoder:
    """Raw Annex-B H.264/HEVC from x264/x265, shaped like PyNvVideoCodec's output."""

    def __init__(self, width, height, fmt, usecpuinputbuffer, style, created, **kwargs):
        assert (fmt, usecpuinputbuffer) == ("NV12", True)
        created.append(kwargs)
        self.width, self.height, self.style = width, height, style
        gop, codec = int(kwargs["gop"]), kwargs["codec"]
        self.ctx = av.CodecContext.create("libx264" if codec == "h264" else "libx265", "w")
        self.ctx.width, self.ctx.height = width, height
        self.ctx.pix_fmt = "yuv420p"
        self.ctx.time_base = Fraction(1, int(kwargs["fps"]))
        self.ctx.gop_size = gop
        self.ctx.color_range = 2  # full range, as colorspace=bt709 would set: the muxer must fix it
        if codec == "h264":
            self.ctx.options = {"preset": "ultrafast", "bf": "0", "keyint_min": str(gop), "sc_threshold": "0"}
        else:
            params = f"bframes=0:keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:log-level=error"
            self.ctx.options = {"preset": "ultrafast", "x265-params": params}
        self.ctx.open()
        self.delay, self.done = [], 0

    def Encode(self, frame):
        assert frame.dtype == np.uint8 and frame.size == self.width * self.height * 3 // 2
        luma = self.width * self.height
        i420 = np.concatenate([frame[:luma], frame[luma::2], frame[luma + 1 :: 2]])
        video = av.VideoFrame.from_ndarray(i420.reshape(-1, self.width), format="yuv420p")
        video.pts = self.done
        self.done += 1
        self.delay.extend(bytes(p) for p in self.ctx.encode(video))
        # Hold back three pictures, as NVENC's output delay does, then hand over the rest.
        ready, self.delay = self.delay[:-3], self.delay[-3:]
        return self._shape(ready)

    def EndEncode(self):
        ready = self.delay + [bytes(p) for p in self.ctx.encode(None)]
        self.delay = []
        return self._shape(ready)

    def _shape(self, packets):
        if self.style == "2.0":  # one bytes object, packets concatenated
            return b"".join(packets)
        return [{"data": p, "timestamp": 0, "picture_type": 0} for p in packets]  # 2.2


def fake_library(monkeypatch, style):
    created = []
    module = types.SimpleNamespace(
        CreateEncoder=lambda w, h, fmt, cpu, **kw: FakeNvEncoder(w, h, fmt, cpu, style, created, **kw)
    )
    monkeypatch.setitem(sys.modules, "PyNvVideoCodec", module)
    return created


@pytest.mark.parametrize(
    "codec,name,tag,style",
    [
        ("h264", "nvenc", "avc1", "2.0"),
        ("h264", "nvenc", "avc1", "2.2"),
        ("hevc", "nvenc_hevc", "hvc1", "2.2"),
    ],
)
def test_nvenc_output_is_muxed_with_exact_timestamps_gop_and_bt709_tags(tmp_path, monkeypatch, codec, name, tag, style):
    created = fake_library(monkeypatch, style)
    settings = EncodeSettings(width=96, height=64, fps=10, codec=codec, gop=8, preset="veryfast")
    fallbacks = []
    encoder = open_encoder("auto", settings, fallbacks)
    assert encoder.name == name and fallbacks == []  # first in the chain
    path = tmp_path / f"{name}.mp4"
    encoder.open(path)
    encoder.encode_repeated(solid_nv12(96, 64, (220, 30, 30)), 0, 11)
    encoder.encode(solid_nv12(96, 64, (30, 30, 220)), 11)
    encoder.encode_repeated(solid_nv12(96, 64, (30, 200, 30)), 12, 8)
    stats = encoder.close()

    assert (stats.encoder, stats.frames, stats.bytes) == (name, 20, path.stat().st_size)
    options = created[-1]  # the render's session (earlier ones were the probes)
    assert options["preset"] == "P4" and options["rc"] == "vbr" and options["bf"] == 0
    assert (options["gop"], options["idrperiod"], options["fps"], options["codec"]) == (8, 8, 10, codec)
    assert "colorspace" not in options  # it would set full range

    info = probe(path)
    assert (info.codec, info.width, info.height, info.frames, info.pix_fmt) == (codec, 96, 64, 20, "yuv420p")
    assert (info.color_primaries, info.color_trc, info.colorspace, info.color_range) == (1, 1, 1, 1)
    assert info.keyframes == [0, 8, 16]
    assert info.moov_before_mdat and info.duration == pytest.approx(2.0, abs=0.01)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_tag == tag
        packets = [p for p in container.demux(stream) if p.size]
        assert [round(float(p.pts * p.time_base) * 10) for p in packets] == list(range(20))
        assert [p.is_keyframe for p in packets] == [i % 8 == 0 for i in range(20)]
    frames = decode_frames(path, {5, 11, 19})
    assert np.abs(frames[5].astype(int) - (220, 30, 30)).max() <= 8
    assert np.abs(frames[11].astype(int) - (30, 30, 220)).max() <= 8
    assert np.abs(frames[19].astype(int) - (30, 200, 30)).max() <= 8


def test_draft_maps_to_nvencs_fastest_preset_in_upper_case(monkeypatch, tmp_path):
    created = fake_library(monkeypatch, "2.2")
    encoder = open_encoder("nvenc", EncodeSettings(width=64, height=64, fps=10, preset="ultrafast"))
    encoder.open(tmp_path / "draft.mp4")
    encoder.encode(solid_nv12(64, 64, (0, 0, 0)), 0)
    encoder.close()
    assert created[-1]["preset"] == "P1"


# -- Annex-B access units and hvc1 -----------------------------------------------------


def annex_b_packets(codec, count=12, bframes=2):
    """Raw packets (one access unit each) from x264/x265 with B-frames, and their key flags."""
    ctx = av.CodecContext.create("libx264" if codec == "h264" else "libx265", "w")
    ctx.width, ctx.height, ctx.pix_fmt, ctx.time_base, ctx.gop_size = 64, 64, "yuv420p", Fraction(1, 10), 5
    if codec == "h264":
        ctx.options = {"preset": "veryfast", "bf": str(bframes), "sc_threshold": "0", "keyint_min": "5"}
    else:
        ctx.options = {"x265-params": f"bframes={bframes}:keyint=5:min-keyint=5:scenecut=0:open-gop=0:log-level=error"}
    ctx.open()
    packets = []
    rng = np.random.default_rng(1)
    for i in range(count):
        frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (96, 64), np.uint8), format="yuv420p")
        frame.pts = i
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    return [bytes(p) for p in packets], [p.is_keyframe for p in packets]


@pytest.mark.parametrize("codec", ["h264", "hevc"])
def test_annex_b_stream_is_cut_into_the_encoders_access_units(codec):
    packets, keys = annex_b_packets(codec)
    units = split_access_units(b"".join(packets), codec)
    assert [u for u, _ in units] == packets
    assert [k for _, k in units] == keys and keys.count(True) == 3  # IDR at 0, 5, 10


def test_hvc1_tag_is_written_into_an_hev1_file(tmp_path):
    packets, keys = annex_b_packets("hevc", bframes=0)
    path = tmp_path / "hev1.mp4"
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_mux_stream("hevc", rate=10, width=64, height=64)
        for i, (data, key) in enumerate(zip(packets, keys)):
            packet = av.Packet(data)
            packet.pts = packet.dts = i
            packet.time_base, packet.is_keyframe, packet.stream = Fraction(1, 10), key, stream
            container.mux(packet)
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_tag == "hev1"
    assert tag_hvc1(path) is True
    assert tag_hvc1(path) is False  # already hvc1
    info = probe(path)
    assert (info.codec, info.frames) == ("hevc", len(packets))
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_tag == "hvc1"
