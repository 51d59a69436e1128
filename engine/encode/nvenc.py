"""NVENC through PyNvVideoCodec (``pip install 'reel-engine[nvenc]'``).

PyNvVideoCodec drives the GPU's encoder directly, without FFmpeg, and hands back the
raw Annex-B bitstream. This module feeds it host NV12 buffers, cuts what comes back
into access units, fixes the colour description in the bitstream and muxes the
result into MP4 with PyAV as a stream that is muxed only, never re-encoded:

    NV12 (host) ─ Encode ─▶ Annex-B bytes ─ split into AUs ─ h264/hevc_metadata ─▶ MP4

What PyNvVideoCodec does not do, and how it is made up for (notes: gpu-encode.md):

- Importing it raises where libnvidia-encode is missing, and opening a session fails
  on GPUs without NVENC (A100, H100, H200): both are "unavailable", with the reason.
- Its default GOP is infinite: ``gop`` and ``idrperiod`` are always given.
- Its presets are upper-case only (``P1`` … ``P7``); ``rc`` is ``vbr`` with ``cq``.
- ``colorspace=bt709`` also sets full range and no colour description; it is not used.
  The ``h264_metadata``/``hevc_metadata`` bitstream filters write BT.709 limited range
  into every SPS instead.
- 2.0 returns concatenated bytes without timestamps, 2.2 a list of packets: both are
  handled. B-frames are off (``bf=0``), so packets come out in input order and each
  one's pts (= dts) is the input timestamp, exactly, with either version.
- The profile is NVENC's choice (High for H.264 NV12, Main for HEVC), and so is the
  level, which it derives from the same size, frame rate and bitrate.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import BackendUnavailableError, RenderError
from . import conformance
from .base import EncodeSettings, EncodeStats, backend_errors, encode_repeats

if TYPE_CHECKING:  # PyAV itself is imported only when a file is written
    from av.container import OutputContainer
    from av.packet import Packet

__all__ = ["AnnexBMuxer", "NvencEncoder", "probe", "split_access_units"]

log = logging.getLogger(__name__)

_INSTALL = "pip install 'reel-engine[nvenc]'"


def _import_nvc() -> ModuleType:
    """The PyNvVideoCodec module, or BackendUnavailableError saying why not."""
    try:
        import PyNvVideoCodec as nvc
    except ModuleNotFoundError as exc:
        if exc.name == "PyNvVideoCodec":
            raise BackendUnavailableError(f"PyNvVideoCodec is not installed ({_INSTALL})") from exc
        raise BackendUnavailableError(f"PyNvVideoCodec cannot be imported: {_first_line(exc)}") from exc
    except Exception as exc:  # RuntimeError: no libnvidia-encode, or a driver too old for it
        raise BackendUnavailableError(f"PyNvVideoCodec cannot load NVENC: {_first_line(exc)}") from exc
    return nvc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def encoder_options(settings: EncodeSettings) -> dict[str, object]:
    """Keyword arguments for `CreateEncoder` (it turns each into a string and parses it)."""
    s = settings
    return {
        "codec": s.codec,
        "preset": conformance.NVENC_PRESET.get(s.preset, "p4").upper(),
        "tuning_info": "high_quality",
        # Constant-quality VBR capped at the platform's bitrate. "cqp" would silently
        # become CBR in its parser; plain integers, since "M" there means 1024².
        "rc": "vbr",
        "cq": conformance.nvenc_cq(s.crf),
        "bitrate": 0,
        "maxbitrate": s.max_bitrate,
        "vbvbufsize": s.buffer_size,
        "gop": s.gop,
        "idrperiod": s.gop,
        "bf": 0,
        "fps": s.fps,
        # H.264: SPS/PPS again at every IDR, as x264 does. HEVC is tagged hvc1, where the
        # parameter sets belong in the sample entry, so only the first IDR carries them.
        "repeatspspps": 1 if s.codec == "h264" else 0,
    }


# -- Annex-B access units -------------------------------------------------------------


def _nal_starts(data: bytes) -> list[int]:
    """Offsets of the first byte after each start code (00 00 01, or 00 00 00 01)."""
    starts = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        starts.append(i + 3)
        i = data.find(b"\x00\x00\x01", i + 3)
    return starts


def split_access_units(data: bytes, codec: str) -> list[tuple[bytes, bool]]:
    """Cut an Annex-B byte string holding whole access units into (AU, is_keyframe).

    A new AU starts at a parameter set, SEI or delimiter that follows a picture's
    slices, or at the first slice of a picture (first_mb_in_slice = 0 in H.264,
    first_slice_segment_in_pic_flag in HEVC). Keyframes are IDR pictures in H.264
    and IRAP pictures in HEVC.
    """
    units: list[tuple[bytes, bool]] = []
    starts = _nal_starts(data)
    au_start, have_slice, keyframe = 0, False, False
    for start in starts:
        if start >= len(data):
            break
        header = data[start]
        if codec == "h264":
            kind = header & 0x1F
            slice_ = kind in (1, 5)
            first_slice = slice_ and start + 1 < len(data) and data[start + 1] & 0x80
            opens_au = kind in (6, 7, 8, 9) or 14 <= kind <= 18
            idr = kind == 5
        else:
            kind = (header >> 1) & 0x3F
            slice_ = kind <= 31
            first_slice = slice_ and start + 2 < len(data) and data[start + 2] & 0x80
            opens_au = kind in (32, 33, 34, 35, 39) or 41 <= kind <= 44 or 48 <= kind <= 55
            idr = 16 <= kind <= 23
        # The start code may be 4 bytes: its leading zero belongs to this NAL unit.
        nal_begin = start - 4 if start >= 4 and data[start - 4] == 0 else start - 3
        if have_slice and (opens_au or first_slice):
            units.append((data[au_start:nal_begin], keyframe))
            au_start, have_slice, keyframe = nal_begin, False, False
        if slice_:
            have_slice = True
            keyframe = keyframe or idr
    if au_start < len(data) and (have_slice or not units):
        units.append((data[au_start:], keyframe))
    elif au_start < len(data):  # trailing non-slice NAL units belong to the last picture
        last, key = units.pop()
        units.append((last + data[au_start:], key))
    return units


def _colour_filter(codec: str) -> str:
    """A bitstream filter that writes BT.709, limited range and left chroma into the VUI."""
    return (
        f"{codec}_metadata=video_full_range_flag=0:colour_primaries=1:transfer_characteristics=1"
        ":matrix_coefficients=1:chroma_sample_loc_type=0"
    )


class AnnexBMuxer:
    """Writes Annex-B access units made elsewhere into an MP4 file (``+faststart``).

    The stream is muxed only: PyAV opens no encoder for it, so the sample entry
    (avcC/hvcC) is built from the first access unit's own parameter sets.
    """

    def __init__(self, path: Path, codec: str, width: int, height: int, fps: int) -> None:
        import av

        self.path, self.codec, self.fps = Path(path), codec, fps
        self._time_base = Fraction(1, fps)
        self._container: OutputContainer | None = av.open(
            str(path), "w", format="mp4", options={"movflags": "+faststart"}
        )
        try:
            self._stream = self._container.add_mux_stream(codec, rate=fps, width=width, height=height)
            self._filter = av.bitstream.BitStreamFilterContext(_colour_filter(codec), self._stream)
        except Exception:
            self.abort()
            raise
        self._packets = 0

    def write(self, access_unit: bytes, pts: int, keyframe: bool) -> None:
        import av

        if self._packets == 0 and not keyframe:
            raise RenderError(f"the first access unit for {self.path} is not a keyframe; an MP4 must start with one")
        packet = av.Packet(access_unit)
        packet.pts = packet.dts = pts  # no B-frames: decode order is display order
        packet.time_base = self._time_base
        packet.duration = 1
        packet.is_keyframe = keyframe
        packet.stream = self._stream
        self._mux(self._filter.filter(packet))
        self._packets += 1

    def _mux(self, packets: Iterable[Packet]) -> None:
        container = self._opened()
        for packet in packets:
            packet.stream = self._stream
            container.mux(packet)

    def _opened(self) -> OutputContainer:
        if self._container is None:
            raise RenderError(f"{self.path} is closed; nothing more can be written to it")
        return self._container

    def close(self) -> None:
        self._mux(self._filter.filter(None))
        self._opened().close()
        self._container = None
        if self.codec == "hevc":
            tag_hvc1(self.path)

    def abort(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:  # the file is being thrown away
                log.debug("ignoring error while closing an aborted container", exc_info=True)


# -- hvc1 ------------------------------------------------------------------------------

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


Box = tuple[bytes, int, int, int]  # type, offset of the box, offset of its payload, end


def _boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[Box]:
    """The boxes in data[start:end], each as a `Box`."""
    return _read_boxes(lambda offset, size: data[offset : offset + size], start, end)


def _read_boxes(read: Callable[[int, int], bytes | bytearray], start: int, end: int) -> Iterator[Box]:
    """The boxes in [start, end) of whatever `read(offset, size)` reads: bytes in memory
    or a file, so that a file's top level is walked without reading its media data."""
    while start + 8 <= end:
        header = read(start, 16)
        size = int.from_bytes(header[:4], "big")
        kind = bytes(header[4:8])
        body = 8
        if size == 1:
            size, body = int.from_bytes(header[8:16], "big"), 16
        elif size == 0:
            size = end - start
        if size < body or start + size > end:
            return
        yield kind, start, start + body, start + size
        start += size


def tag_hvc1(path: Path) -> bool:
    """Rename an MP4's HEVC sample entry from hev1 to hvc1, marking its parameter-set
    arrays complete. True if it was changed.

    PyAV gives a mux-only stream no way to choose the codec tag, and FFmpeg writes
    hev1 by default, which Apple's players refuse. Both are the same box layout; hvc1
    says that the parameter sets are all in the sample entry (array_completeness = 1),
    which holds here: the encoder sends them once, with the first IDR, and the muxer
    copies them from there. Only the `moov` box is read and rewritten, in place.
    """
    with open(path, "r+b") as fh:

        def read(offset: int, size: int) -> bytes:
            fh.seek(offset)
            return fh.read(size)

        for kind, offset, body, end in _read_boxes(read, 0, fh.seek(0, 2)):
            if kind != b"moov":
                continue
            moov = bytearray(read(offset, end - offset))
            if not _patch_hev1(moov, body - offset, len(moov)):
                return False
            fh.seek(offset)
            fh.write(moov)
            return True
    return False


def _patch_hev1(data: bytearray, start: int, end: int) -> bool:
    changed = False
    for kind, _, body, box_end in _boxes(data, start, end):
        if kind in _CONTAINERS:
            changed |= _patch_hev1(data, body, box_end)
        elif kind == b"stsd":
            # stsd: version/flags (4), entry count (4), then sample entries.
            for entry, offset, entry_body, entry_end in _boxes(data, body + 8, box_end):
                if entry != b"hev1":
                    continue
                data[offset + 4 : offset + 8] = b"hvc1"
                # VisualSampleEntry fields take 78 bytes before its child boxes.
                for child, _, child_body, child_end in _boxes(data, entry_body + 78, entry_end):
                    if child == b"hvcC":
                        _complete_arrays(data, child_body, child_end)
                changed = True
    return changed


def _complete_arrays(data: bytearray, start: int, end: int) -> None:
    """Set array_completeness on hvcC's VPS/SPS/PPS arrays (ISO/IEC 14496-15 8.3.3)."""
    position = start + 22
    if position >= end:
        return
    arrays = data[position]
    position += 1
    for _ in range(arrays):
        if position + 3 > end:
            return
        nal_type = data[position] & 0x3F
        if nal_type in (32, 33, 34):
            data[position] |= 0x80
        count = int.from_bytes(data[position + 1 : position + 3], "big")
        position += 3
        for _ in range(count):
            length = int.from_bytes(data[position : position + 2], "big")
            position += 2 + length


# -- the encoder ----------------------------------------------------------------------


def _chunks(output: Any) -> list[bytes]:
    """What `Encode`/`EndEncode` returned, as byte strings: 2.0 gives bytes (or an array),
    2.2 a list of {'data': …, 'timestamp': …, 'picture_type': …}."""
    if output is None:
        return []
    if isinstance(output, (bytes, bytearray, memoryview, np.ndarray)):
        data = bytes(output)
        return [data] if data else []
    chunks: list[bytes] = []
    for item in output:
        piece = item.get("data") if isinstance(item, dict) else item
        if piece is not None and len(piece):
            chunks.append(bytes(piece))
    return chunks


class NvencEncoder:
    """H.264 or HEVC on NVENC through PyNvVideoCodec, host NV12 in, MP4 out."""

    @staticmethod
    def probe(target: str, settings: EncodeSettings) -> str | None:
        """The module's `probe`, where the encoder table finds it (`EncoderBackend`)."""
        return probe(target, settings)

    def __init__(self, settings: EncodeSettings, codec: str = "h264", name: str = "nvenc") -> None:
        if codec not in ("h264", "hevc"):
            raise BackendUnavailableError(f"{name}: PyNvVideoCodec output is muxed for h264 and hevc, not {codec}")
        self.settings, self.codec, self.name = settings, codec, name
        self._encoder: Any = None  # PyNvVideoCodec's encoder (the library has no types)
        self._muxer: AnnexBMuxer | None = None
        self._pending: deque[int] = deque()  # input timestamps not yet out of the encoder
        self._frames = 0
        self._path: Path | None = None

    def open(self, path: Path) -> None:
        nvc = _import_nvc()
        s = self.settings
        self._path = Path(path)
        try:
            self._encoder = nvc.CreateEncoder(s.width, s.height, "NV12", True, **encoder_options(s))
        except Exception as exc:  # PyNvVCExceptionUnsupported, RuntimeError …: no session here
            raise BackendUnavailableError(f"cannot open encoder {self.name}: {_first_line(exc)}") from exc
        try:
            self._muxer = AnnexBMuxer(self._path, self.codec, s.width, s.height, s.fps)
        except Exception as exc:  # PyAV's errors opening the file, whichever they are
            self.abort()
            raise RenderError(f"cannot write {path}: {exc}") from exc

    def encode(self, frame: np.ndarray, pts: int) -> None:
        self.encode_repeated(frame, pts, 1)

    def encode_repeated(self, frame: np.ndarray, first_pts: int, count: int) -> None:
        # The library copies the host buffer into its own input surface on each call.
        buffer = np.ascontiguousarray(frame.reshape(-1))
        encoder, _ = self._opened()

        def encode_at(pts: int) -> None:
            self._pending.append(pts)
            self._write(encoder.Encode(buffer))

        encode_repeats(self.name, first_pts, count, encode_at)
        self._frames += count

    def _opened(self) -> tuple[Any, AnnexBMuxer]:
        if self._encoder is None or self._muxer is None:
            raise RenderError(f"{self.name}: the encoder is not open (open it first; after close or abort it is done)")
        return self._encoder, self._muxer

    def _write(self, output: Any) -> None:
        _, muxer = self._opened()
        for chunk in _chunks(output):
            for access_unit, keyframe in split_access_units(chunk, self.codec):
                if not self._pending:
                    raise RenderError(f"{self.name} returned more pictures than it was given")
                muxer.write(access_unit, self._pending.popleft(), keyframe)

    def close(self) -> EncodeStats:
        encoder, muxer = self._opened()
        with backend_errors(f"{self.name} failed while finishing {self._path}", cleanup=self.abort):
            self._write(encoder.EndEncode())
            if self._pending:
                returned = self._frames - len(self._pending)
                raise RenderError(f"{self.name} returned {returned} of {self._frames} pictures")
            muxer.close()
        self._encoder = None
        size = self._path.stat().st_size if self._path and self._path.exists() else 0
        reason = f"{self.name}: holds are skipped for libx264 only" if self.settings.skip_holds else None
        return EncodeStats(
            encoder=self.name, frames=self._frames, bytes=size, coded_frames=self._frames, holds_reason=reason
        )

    def abort(self) -> None:
        self._encoder = None  # the library ends the session when the object goes
        muxer, self._muxer = self._muxer, None
        if muxer is not None:
            muxer.abort()


def probe(codec: str, settings: EncodeSettings) -> str | None:
    """Open a PyNvVideoCodec session for `settings` and encode one frame: None if that
    works, else why not (not installed, no NVENC library, no NVENC on this GPU …)."""
    try:
        nvc = _import_nvc()
    except BackendUnavailableError as exc:
        return str(exc)
    try:
        encoder = nvc.CreateEncoder(settings.width, settings.height, "NV12", True, **encoder_options(settings))
        frame = np.full(settings.width * settings.height * 3 // 2, 128, np.uint8)
        frame[: settings.width * settings.height] = 16
        encoder.Encode(frame)
        encoder.EndEncode()
    except Exception as exc:  # noqa: BLE001 - PyNvVCExceptionUnsupported, RuntimeError from nvEncOpenEncodeSessionEx …
        return _first_line(exc)
    return None
