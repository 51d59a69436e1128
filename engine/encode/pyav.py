"""Encoding through PyAV: FFmpeg's software encoders and the hardware ones it hosts.

Software: libx264 (H.264), libx265 (HEVC), libsvtav1 (AV1). Hardware, where the
machine has it: NVENC (``*_nvenc``), Intel Quick Sync (``*_qsv``), VA-API (``*_vaapi``)
and VideoToolbox (``*_videotoolbox``) — FFmpeg lists these whether or not the hardware
is there, so they are only known to work once one has opened and encoded a frame.

Frames go from the NV12 buffer into the codec without swscale: `from_numpy_buffer`
wraps the memory without a copy, and the encoders that take NV12 (x264 and the
hardware ones) get it as it is. x265 and SVT-AV1 take planar I420 only; for them the
chroma is de-interleaved once per buffer (a hold is converted once, not per frame).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._host import usable_cores
from ..errors import BackendUnavailableError, EngineError, RenderError
from . import conformance
from .base import EncodeSettings, EncodeStats, backend_errors, encode_repeats
from .skip import X264_REFS, OutPacket, SkipStream, Unsupported, plan_hold

if TYPE_CHECKING:  # PyAV itself is imported only when an encoder opens
    from av.container import OutputContainer
    from av.packet import Packet
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

__all__ = ["PyAVEncoder", "configure_skipping", "encoder_options", "ffmpeg_errors", "probe", "skip_template"]

log = logging.getLogger(__name__)

# BT.709 primaries / transfer / matrix, limited ("tv") range: FFmpeg's enum values.
_BT709 = 1
_RANGE_TV = 1

# Encoders that copy the frame before `encode` returns, so the caller's buffer can be
# wrapped rather than copied. The hardware wrappers may keep a reference to the frame
# (qsv does for aligned system-memory frames), so they get a copy of their own.
_COPIES_INPUT = {"libx264", "libx265", "libsvtav1", "h264_nvenc", "hevc_nvenc", "av1_nvenc"}
# More frames than any encoder here reorders by (B-frame pyramids, in frames).
_MAX_REORDER = 16
# Encoders that take planar I420 and not NV12.
_PLANAR_INPUT = {"libx265", "libsvtav1"}
# x264's "never on its own" keyframe interval: with holds skipped it sees fewer frames
# than the video has, so each keyframe is asked for (forced IDR) at its frame instead.
_KEYINT_INFINITE = 1 << 30
_GLOBAL_HEADER = 1 << 22  # AV_CODEC_FLAG_GLOBAL_HEADER, as the MP4 muxer asks of a stream


def _import_av():
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a core dependency
        raise BackendUnavailableError(f"PyAV is not installed ({exc}); pip install 'av>=18,<19'") from exc
    return av


@contextmanager
def ffmpeg_errors() -> Iterator[list[tuple[int, str, str]]]:
    """FFmpeg's log records from this thread while the block runs (a live list).

    PyAV's exceptions carry only the failing call ("avcodec_open2: Operation not
    permitted"); the reason ("Cannot load libcuda.so.1") is in FFmpeg's log, which
    PyAV leaves switched off by default. It is switched on at error level for the
    block, and restored after. `_reason` turns the records into one line.
    """
    import av.logging

    previous = av.logging.get_level()
    if previous is None or previous < av.logging.ERROR:
        av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture(local=True) as logs:
            yield logs
    finally:
        av.logging.set_level(previous)


def _reason(exc: BaseException, logs: list[tuple[int, str, str]]) -> str:
    """One line saying why FFmpeg refused: its own error lines if any, else the exception."""
    import av.logging

    lines: list[str] = []
    for level, name, message in logs:
        text = f"{name}: {message.strip()}" if name else message.strip()
        if level <= av.logging.ERROR and text not in lines:
            lines.append(text)
    if lines:
        return "; ".join(lines)
    text = str(exc).strip() or type(exc).__name__
    return text.split("; last error log:")[0]


def _family(encoder: str) -> str:
    """The option set `encoder` takes: x264, x265, svtav1, nvenc, qsv, vaapi, videotoolbox."""
    if encoder in ("libx264", "libx265", "libsvtav1"):
        return encoder[3:]
    return encoder.rsplit("_", 1)[-1]


def _configure(cc: Any, settings: EncodeSettings, encoder: str) -> None:
    """Set `cc` (a not yet opened codec context) up to write what `settings` asks."""
    s = settings
    cc.width, cc.height = s.width, s.height
    cc.pix_fmt = "yuv420p" if encoder in _PLANAR_INPUT else "nv12"
    cc.time_base = Fraction(1, s.fps)
    cc.framerate = Fraction(s.fps, 1)
    cc.gop_size = s.gop
    # The encoders write these into the bitstream's VUI (x264, x265, NVENC) or sequence
    # header (SVT-AV1); the MP4 muxer adds a matching `colr` box.
    cc.colorspace = _BT709
    cc.color_primaries = _BT709
    cc.color_trc = _BT709
    cc.color_range = _RANGE_TV
    # PyAV defaults to slice threads; frame threads are what x264 is fastest with.
    cc.thread_type = "AUTO"
    # One frame thread per core: x264's own default (1.5 per core) measured no faster
    # on two cores and held ~25 MB more at 1080p. SVT-AV1 reads it as its parallelism.
    cc.thread_count = s.threads or usable_cores()
    cc.options = encoder_options(s, encoder)


def encoder_options(settings: EncodeSettings, encoder: str) -> dict[str, str]:
    """The FFmpeg options `encoder` is opened with for `settings` (preset, CRF, VBV, GOP…)."""
    return _OPTIONS[_family(encoder)](settings, encoder)


# Frames larger than this (more than 1080p) are coded with slice threads, not frame threads.
_SLICED_FROM_PIXELS = 1920 * 1088


def _x264(s: EncodeSettings, encoder: str) -> dict[str, str]:
    options = {
        "preset": s.preset,
        "crf": str(s.crf),
        # Capped CRF: constant quality, but never above the platform's bitrate.
        "maxrate": str(s.max_bitrate),
        "bufsize": str(s.buffer_size),
        "profile": s.profile_name,
        "level": conformance.h264_level(s.width, s.height, s.fps, s.max_bitrate, s.buffer_size, s.profile_name),
        # A keyframe exactly every `gop` frames: chunked rendering joins on them,
        # and platforms recommend a fixed 2 s GOP.
        "keyint_min": str(s.gop),
        "sc_threshold": "0",
        "bf": str(conformance.bframes(encoder, s.preset, s.bframes)),
    }
    if s.lookahead is not None:
        options["rc-lookahead"] = str(s.lookahead)
    if s.width * s.height > _SLICED_FROM_PIXELS:
        # Each frame thread holds its own frames with their half-pel planes (~600 MB of
        # x264 at 4K with two): slice threads share one frame, ~190 MB less at 4K, as
        # fast on two cores, ~5 % more bytes on motion (holds are skip frames anyway).
        options["x264-params"] = "sliced-threads=1"
    else:
        # Frame threads feed x264's lookahead through a buffer of its own frames (~12 MB
        # each at 1080p): without it x264 holds ~21 MB less of a 1080p render's peak,
        # which is what keeps the example deck under 350 MB. It costs time: the lookahead
        # then runs on the thread that calls the encoder, and the example deck renders
        # ~4 % slower (15.75 against 15.16 s, three interleaved pairs; sync-lookahead=2
        # was as fast as the default at ~7 MB less, and 1 put three of the seven 1080p
        # platforms at 351-353 MB), while an encoder fed from one thread alone
        # (bench/run.py's encode-only) takes ~20 % longer: the bench times that floor
        # both ways (`lookahead_thread`). Its decisions barely move: on the example deck
        # (tiktok) 24 of 1,794 frames decode differently, each within 89 dB PSNR of before.
        if not s.lookahead_thread:
            options["x264-params"] = "sync-lookahead=0"
    # FFmpeg's own libx264 options; each left out keeps the preset's value.
    if s.aq_mode is not None:
        options["aq-mode"] = str(s.aq_mode)
    if s.aq_strength is not None:
        options["aq-strength"] = f"{s.aq_strength:g}"
    if s.psy_rd is not None:
        # psy-rd:psy-trellis; psy-trellis stays at x264's default, 0.
        options["psy-rd"] = f"{s.psy_rd:g}:0"
    return options


def _x265(s: EncodeSettings, encoder: str) -> dict[str, str]:
    level, tier = conformance.hevc_level(s.width, s.height, s.fps, s.max_bitrate, s.buffer_size)
    bframes = conformance.bframes(encoder, s.preset, s.bframes)
    params: dict[str, int | str] = {
        "keyint": s.gop,
        "min-keyint": s.gop,
        "scenecut": 0,
        "open-gop": 0,  # x265 defaults to open GOPs (CRA); chunks must start clean (IDR)
        "bframes": bframes,
        # Slide transitions move text ~100 px a frame (300 between P-frames); the presets'
        # hex search within 57 px loses it and codes those frames nearly intra. umh over
        # 256 px finds it: on the example deck's worst frame, at x265 CRF 16, text 41.4 →
        # 43.2 dB and 60 % fewer bytes in its GOP (bench/results/quality-codecs.md).
        "me": "umh",
        "merange": 256,
        "vbv-maxrate": s.max_bitrate // 1000,  # kbit/s
        "vbv-bufsize": s.buffer_size // 1000,  # kbit
        "level-idc": level,
        "high-tier": int(tier == "high"),
        "colorprim": "bt709",
        "transfer": "bt709",
        "colormatrix": "bt709",
        "range": "limited",
        "log-level": "error",
    }
    if s.lookahead is not None:
        params["rc-lookahead"] = max(s.lookahead, bframes + 1)
    if s.threads:
        params["pools"] = s.threads
    return {
        "preset": s.preset,  # x265 has x264's preset names
        "crf": str(conformance.x265_crf(s.crf)),
        "profile": s.profile_name,
        "x265-params": ":".join(f"{k}={v}" for k, v in params.items()),
    }


def _svtav1(s: EncodeSettings, encoder: str) -> dict[str, str]:
    # SVT-AV1 prints its configuration banner to stderr unless told otherwise; 1 keeps
    # its errors. An environment variable is the only switch it has.
    os.environ.setdefault("SVT_LOG", "1")
    return {
        "preset": str(conformance.SVTAV1_PRESET.get(s.preset, 9)),
        "crf": str(conformance.svtav1_crf(s.crf)),
        # crf with a max bitrate is SVT-AV1's capped CRF.
        "maxrate": str(s.max_bitrate),
        "bufsize": str(s.buffer_size),
        # No scene-change keyframes; closed GOPs (key frames, not intra-only frames).
        "svtav1-params": "scd=0:irefresh-type=2",
    }


def _nvenc(s: EncodeSettings, encoder: str) -> dict[str, str]:
    options = {
        "preset": conformance.NVENC_PRESET.get(s.preset, "p4"),
        "tune": "hq",
        # Constant-quality VBR, capped at the platform's bitrate: target bitrate 0
        # leaves quality to `cq`, the cap to maxrate.
        "rc": "vbr",
        "cq": str(conformance.nvenc_cq(s.crf)),
        "b": "0",
        "maxrate": str(s.max_bitrate),
        "bufsize": str(s.buffer_size),
        # Keyframes are IDRs, exactly every gop frames. The level is NVENC's own choice,
        # made from the same size, rate and bitrate.
        "forced-idr": "1",
        "no-scenecut": "1",
    }
    if s.codec != "av1":  # av1_nvenc has no profile option: 8-bit 4:2:0 is Main anyway
        options["profile"] = s.profile_name
    if s.codec == "h264":  # every NVENC generation has H.264 B-frames; not so for HEVC
        options["bf"] = str(conformance.bframes(encoder, s.preset, s.bframes))
    return options


def _qsv(s: EncodeSettings, encoder: str) -> dict[str, str]:
    options = {
        "preset": conformance.QSV_PRESET.get(s.preset, "medium"),
        # VBR under the cap: Quick Sync has no capped constant-quality mode.
        "b": str(s.max_bitrate // 2),
        "maxrate": str(s.max_bitrate),
        "bufsize": str(s.buffer_size),
        "profile": s.profile_name,
    }
    if s.codec == "h264":
        options["idr_interval"] = "0"  # every I-frame an IDR (HEVC counts differently)
        options["bf"] = str(conformance.bframes(encoder, s.preset, s.bframes))
    return options


def _vaapi(s: EncodeSettings, encoder: str) -> dict[str, str]:
    # FFmpeg's VA-API encoders take frames in GPU memory; fed system-memory NV12 they
    # refuse to open, and the probe reports that.
    return {
        "rc_mode": "VBR",
        "b": str(s.max_bitrate // 2),
        "maxrate": str(s.max_bitrate),
        "bufsize": str(s.buffer_size),
        "profile": s.profile_name,
    }


def _videotoolbox(s: EncodeSettings, encoder: str) -> dict[str, str]:
    return {
        "b": str(s.max_bitrate // 2),
        "maxrate": str(s.max_bitrate),
        "profile": s.profile_name,
        "allow_sw": "0",  # hardware or nothing: the software path is slower than x264
        "realtime": "0",
    }


_OPTIONS = {
    "x264": _x264,
    "x265": _x265,
    "svtav1": _svtav1,
    "nvenc": _nvenc,
    "qsv": _qsv,
    "vaapi": _vaapi,
    "videotoolbox": _videotoolbox,
}


def nv12_to_i420(nv12: np.ndarray, width: int, height: int, into: np.ndarray) -> np.ndarray:
    """De-interleave NV12's CbCr plane into I420's separate Cb and Cr planes."""
    luma = width * height
    quarter = luma // 4
    into[:luma] = nv12[:luma]
    chroma = nv12[luma : luma + 2 * quarter]
    into[luma : luma + quarter] = chroma[0::2]
    into[luma + quarter : luma + 2 * quarter] = chroma[1::2]
    return into


def configure_skipping(cc: Any, settings: EncodeSettings) -> None:
    """`_configure` for libx264 fed only the frames a skipping encoder codes."""
    _configure(cc, settings, "libx264")
    cc.gop_size = _KEYINT_INFINITE
    # Temporal direct prediction scales motion by picture distances, which the skipped
    # frames lengthen (`plan_hold` keeps implicit B weights safe); spatial direct does not.
    cc.options = {**cc.options, "forced-idr": "1", "direct-pred": "spatial"}


@functools.lru_cache(maxsize=8)
def skip_template(settings: EncodeSettings) -> tuple[bytes, bytes]:
    """x264's extradata (SPS/PPS) and its packet for a P-frame identical to the frame
    before (every macroblock skipped), at `settings`: the template of `SkipStream`."""
    av = _import_av()
    ctx = av.CodecContext.create("libx264", "w")
    configure_skipping(ctx, settings)
    ctx.flags |= _GLOBAL_HEADER
    ctx.open()
    rows, width = settings.height * 3 // 2, settings.width
    planes = np.full((rows, width), 128, np.uint8)
    planes[: settings.height] = 110
    packets = []
    kinds = av.video.frame.PictureType
    for pts, kind in enumerate((kinds.I, kinds.P)):
        frame = av.VideoFrame.from_ndarray(planes, format="nv12")
        frame.pts = pts
        frame.pict_type = kind
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    second = [bytes(p) for p in packets if p.pts == 1]
    if not second or not ctx.extradata:
        raise Unsupported("x264 wrote no template frame")
    return bytes(ctx.extradata), second[0]


class PyAVEncoder:
    """One of FFmpeg's encoders (libx264 by default), writing MP4 through PyAV."""

    @staticmethod
    def probe(target: str, settings: EncodeSettings) -> str | None:
        """The module's `probe`, where the encoder table finds it (`EncoderBackend`)."""
        return probe(target, settings)

    def __init__(self, settings: EncodeSettings, codec: str = "libx264", name: str | None = None) -> None:
        self.settings = settings
        self.codec = codec  # FFmpeg's encoder name
        self.name = name or codec  # the ENCODERS key, as reports show it
        self._container: OutputContainer | None = None
        self._stream: VideoStream | None = None
        self._frames = 0
        self._path: Path | None = None
        self._i420: np.ndarray | None = None
        self._last_dts: int | None = None
        self._skip: SkipStream | None = None
        self._coded = 0
        self._last_fed: int | None = None  # the last frame x264 was given, when skipping
        self._force_p = 0  # frames x264 must still code as P-frames after a gap (`plan_hold`)
        self._fed_pts: list[int] = []  # the frame each of x264's timestamps stands for
        #: Why holds are encoded frame by frame although skipping was asked for, if so.
        self.skip_reason: str | None = None

    def _skip_stream(self) -> tuple[SkipStream, bytes] | None:
        """The hold writer for this output, or None (and `skip_reason`) where it cannot be."""
        s = self.settings
        if not s.skip_holds:
            return None
        if self.codec != "libx264":
            self.skip_reason = f"{self.codec}: holds are skipped for libx264 only"
            return None
        try:
            extradata, template = skip_template(s)
            delay = 2 if conformance.bframes(self.codec, s.preset, s.bframes) >= 2 else 1
            return SkipStream(extradata, template, s.gop, delay), extradata
        except Unsupported as exc:
            self.skip_reason = str(exc)
            log.info("holds are encoded frame by frame: %s", exc)
            return None

    def open(self, path: Path) -> None:
        av = _import_av()
        s = self.settings
        self._path = Path(path)
        with ffmpeg_errors() as errors:
            try:
                # +faststart rewrites the file so `moov` precedes `mdat`: players and
                # upload pages can start before the whole file has arrived.
                self._container = container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
                self._stream = stream = container.add_stream(self.codec, rate=s.fps)
                skipping = self._skip_stream()
                if skipping is not None:
                    configure_skipping(stream.codec_context, s)
                else:
                    _configure(stream.codec_context, s, self.codec)
                if s.codec == "hevc":
                    # hvc1 (parameter sets in the sample entry) is what Apple's players
                    # accept; FFmpeg's default hev1 does not play in Safari/QuickTime.
                    stream.codec_context.codec_tag = "hvc1"
                stream.codec_context.open()
                if skipping is not None:
                    self._skip, extradata = skipping
                    if stream.codec_context.extradata != extradata:
                        raise RenderError("libx264 wrote other parameter sets than for its skip template")
                    stream.codec_context.extradata = self._skip.extradata
            except EngineError:
                self.abort()
                raise
            except Exception as exc:  # the backend boundary: FFmpeg refuses in many ways
                self.abort()
                raise BackendUnavailableError(f"cannot open encoder {self.name}: {_reason(exc, errors)}") from exc
        if self.codec in _PLANAR_INPUT:
            self._i420 = np.empty(s.width * s.height * 3 // 2, np.uint8)

    def _opened(self) -> tuple[OutputContainer, VideoStream]:
        if self._container is None or self._stream is None:
            raise RenderError(f"{self.name}: the encoder is not open (open it first; after close or abort it is done)")
        return self._container, self._stream

    def _frame(self, frame: np.ndarray) -> VideoFrame:
        """A VideoFrame over `frame` (NV12), in the layout this encoder takes."""
        av = _import_av()
        s = self.settings
        rows = s.height * 3 // 2
        if self._i420 is not None:
            frame, pix_fmt = nv12_to_i420(frame.reshape(-1), s.width, s.height, self._i420), "yuv420p"
        else:
            pix_fmt = "nv12"
        # PyAV 18's from_numpy_buffer takes the height of a 4:2:0 array to be
        # rows // 6 * 4, so a frame 1350 (or 90) high comes out 1348 (88) high, its
        # chroma plane two luma rows early. Such heights get a copy.
        if s.height % 4 == 0 and (self._i420 is not None or self.codec in _COPIES_INPUT):
            return av.VideoFrame.from_numpy_buffer(frame.reshape(rows, s.width), format=pix_fmt)
        return av.VideoFrame.from_ndarray(frame.reshape(rows, s.width), format=pix_fmt)

    def encode(self, frame: np.ndarray, pts: int) -> None:
        self.encode_repeated(frame, pts, 1)

    def encode_repeated(self, frame: np.ndarray, first_pts: int, count: int) -> None:
        """Encode the same frame at `count` consecutive timestamps (a hold)."""
        # One wrapper for the whole hold: the encoder copies the pixels on each call,
        # so only the timestamp changes.
        video_frame = self._frame(frame)
        _, stream = self._opened()
        if self._skip is not None:
            self._encode_skipping(video_frame, first_pts, count)
            return

        def encode_at(pts: int) -> None:
            video_frame.pts = pts
            self._mux(stream.encode(video_frame))

        encode_repeats(self.name, first_pts, count, encode_at)
        self._frames += count

    def _encode_skipping(self, video_frame: VideoFrame, first_pts: int, count: int) -> None:
        """x264 codes the hold's first frame (a reference P-frame) and each IDR in it; the
        frames after each are skip frames written by `SkipStream`."""
        _, stream = self._opened()
        kinds = _import_av().video.frame.PictureType
        skip, gop = self._skipping(), self.settings.gop
        refs = X264_REFS.get(self.settings.preset, 16)
        coded, self._force_p = plan_hold(first_pts, count, gop, self._last_fed, self._force_p, refs)
        types = {"I": kinds.I, "P": kinds.P, "auto": kinds.NONE}
        pts = first_pts
        with backend_errors(lambda: f"{self.name} failed at frame {pts}"):
            for item in coded:
                pts = item.pts
                skip.hold(pts, item.repeats)
                video_frame.pict_type = types[item.kind]
                # x264 gets consecutive timestamps: told of the gaps, its rate control
                # gives a frame shown for long many more bits. Its packets are mapped back.
                video_frame.pts = len(self._fed_pts)
                self._fed_pts.append(pts)
                self._last_fed = pts
                self._mux_skipping(stream.encode(video_frame))
        self._coded += len(coded)
        self._frames += count

    def _skipping(self) -> SkipStream:
        if self._skip is None:
            raise RenderError(f"{self.name}: holds are not being skipped in this file")
        return self._skip

    def _mux_skipping(self, packets: list[Packet]) -> None:
        skip = self._skipping()
        out: list[OutPacket] = []
        for packet in packets:
            if packet.pts is None:
                raise RenderError(f"{self.name} returned a packet without a timestamp")
            out += skip.coded(bytes(packet), self._fed_pts[packet.pts])
        self._write(out)

    def _write(self, packets: list[OutPacket]) -> None:
        av = _import_av()
        container, stream = self._opened()
        time_base = Fraction(1, self.settings.fps)
        for item in packets:
            packet = av.Packet(item.data)
            packet.stream = stream
            packet.time_base = time_base
            packet.pts, packet.dts = item.pts, item.dts
            packet.duration = 1
            packet.is_keyframe = item.keyframe
            container.mux(packet)

    def _mux(self, packets: list[Packet]) -> None:
        container, _ = self._opened()
        for packet in packets:
            # x265 leaves dts uninitialised when the stream is shorter than its B-frame
            # delay (two frames with bframes=2); the MP4 muxer then refuses the packet.
            # A dts after the pts, far before it, or not after the last one is replaced
            # by the next one in sequence.
            dts, pts, last = packet.dts, packet.pts, self._last_dts
            if pts is not None and not (
                dts is not None and pts - _MAX_REORDER <= dts <= pts and (last is None or dts > last)
            ):
                packet.dts = pts - self.settings.bframes if last is None else last + 1
            self._last_dts = packet.dts
            container.mux(packet)

    def close(self) -> EncodeStats:
        container, stream = self._opened()
        with backend_errors(f"{self.name} failed while finishing {self._path}", cleanup=self.abort):
            if self._skip is not None:
                self._mux_skipping(stream.encode(None))
                self._write(self._skip.finish())
            else:
                self._mux(stream.encode(None))
            container.close()
        self._container = None
        size = self._path.stat().st_size if self._path and self._path.exists() else 0
        if self._skip is None:
            return EncodeStats(
                encoder=self.name,
                frames=self._frames,
                bytes=size,
                coded_frames=self._frames,
                holds_reason=self.skip_reason,
            )
        return EncodeStats(self.name, self._frames, size, coded_frames=self._coded, holds="skipped")

    def abort(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:  # the file is being thrown away; its tail does not matter
                log.debug("ignoring error while closing an aborted container", exc_info=True)


def probe(encoder: str, settings: EncodeSettings) -> str | None:
    """Open FFmpeg's `encoder` for `settings` and encode one grey frame: None if that
    works, else why not (FFmpeg's own words where it logged any).

    Listing codecs is not enough: FFmpeg lists h264_nvenc on machines with no NVIDIA
    GPU at all, and it only fails when opened.
    """
    try:
        av = _import_av()
    except BackendUnavailableError as exc:  # pragma: no cover - av is a core dependency
        return str(exc)
    try:
        av.Codec(encoder, "w")
    except Exception:  # noqa: BLE001 - UnknownCodecError, or whatever this build raises for a missing one
        return f"this PyAV build (FFmpeg {av.ffmpeg_version_info}) has no {encoder} encoder"
    with ffmpeg_errors() as errors:
        try:
            ctx = av.CodecContext.create(encoder, "w")
            _configure(ctx, settings, encoder)
            ctx.open()
            rows, width = settings.height * 3 // 2, settings.width
            planes = np.full((rows, width), 128, np.uint8)
            planes[: settings.height] = 16
            frame = av.VideoFrame.from_ndarray(planes, format=ctx.pix_fmt)
            frame.pts = 0
            ctx.encode(frame)
            ctx.encode(None)
            return None
        except Exception as exc:  # noqa: BLE001 - a probe reports every refusal as a reason, never raises
            failure = exc
    return _reason(failure, errors)
