"""The cover: the frame platforms and players show before a video plays.

The render keeps the composited frame at the deck's cover moment (`Deck.cover_seconds`),
stores it in the MP4 as cover art (a PNG in an attached-picture stream, which FFmpeg's
MP4 muxer writes as the iTunes ``covr`` atom) and, when asked, as a PNG beside the
video. The PNG beside the video is read back from the MP4, so a video copied from the
cache gets exactly the thumbnail it was made with.

The PNG is made on a thread of its own (`cover_in_background`) while the render checks
its keyframes and muxes its sound: made after them, its 0.15–0.3 s of CPU at 1080p
were on the render's tail with nothing beside it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .background import Background
from .errors import RenderError
from .output import atomic_output

__all__ = [
    "attach_cover",
    "cover_in_background",
    "decoded_frame",
    "nv12_to_rgb_banded",
    "png_bytes",
    "read_cover",
    "thumbnail_path",
    "write_thumbnail",
]


def nv12_to_rgb_banded(nv12: np.ndarray, width: int, height: int, rows: int = 64) -> np.ndarray:
    """`colour.nv12_to_rgb`, 64 rows at a time: its float temporaries for a whole 1080p
    frame added ~190 MB to a render's peak, for one picture."""
    from .colour import nv12_to_rgb

    luma = nv12[: width * height].reshape(height, width)
    chroma = nv12[width * height :].reshape(height // 2, width)
    out = np.empty((height, width, 3), np.uint8)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        band = np.concatenate([luma[top:bottom].ravel(), chroma[top // 2 : bottom // 2].ravel()])
        out[top:bottom] = nv12_to_rgb(band, width, bottom - top)
    return out


def png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    with Image.fromarray(rgb) as image:
        image.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


@contextmanager
def cover_in_background(nv12: np.ndarray, width: int, height: int) -> Iterator[Background[bytes]]:
    """Make the cover's PNG from `nv12` on a thread while the block runs; the thread is
    over when the block ends, whatever happens (it writes no file). The frame is the
    thread's from then on: nobody may write it. There is nothing to stop part way (a 4K
    frame takes about a second), so the block's end waits for it."""
    cover = Background("reel-cover", lambda: png_bytes(nv12_to_rgb_banded(nv12, width, height)))
    try:
        yield cover
    finally:
        cover.join()


def attach_cover(video: Path, png: bytes, width: int, height: int) -> None:
    """Rewrite `video` in place (atomically) with `png` as its cover art; packets are copied."""
    import av

    video = Path(video)
    with atomic_output(video) as temporary:
        try:
            with (
                av.open(str(video)) as source,
                av.open(str(temporary), "w", format="mp4", options={"movflags": "+faststart"}) as target,
            ):
                # opaque: copy the stream's parameters as they are; without it PyAV looks
                # for an encoder named like the decoder, and there is no "libdav1d" one.
                copies = {
                    s.index: target.add_stream_from_template(s, opaque=True)
                    for s in source.streams
                    if s.type in ("video", "audio")
                }
                cover = target.add_stream("png")
                cover.width, cover.height, cover.pix_fmt = width, height, "rgb24"
                cover.disposition = av.stream.Disposition.attached_pic
                for packet in source.demux(*[source.streams[i] for i in copies]):
                    if packet.dts is None:  # the demuxer's flush packet
                        continue
                    packet.stream = copies[packet.stream.index]
                    target.mux(packet)
                picture = av.Packet(png)
                picture.stream = cover
                picture.pts = picture.dts = 0
                target.mux(picture)
        except av.FFmpegError as exc:
            raise RenderError(f"adding the cover to {video.name} failed: {exc}") from exc


def read_cover(video: Path) -> bytes | None:
    """The PNG stored as `video`'s cover art, if it has one."""
    import av

    with av.open(str(video)) as container:
        for stream in container.streams:
            if stream.disposition & av.stream.Disposition.attached_pic:
                for packet in container.demux(stream):
                    if packet.size:
                        return bytes(packet)
    return None


def thumbnail_path(video: Path) -> Path:
    """Where the thumbnail of `video` goes: beside it, ``name.png``."""
    return Path(video).with_suffix(".png")


def write_thumbnail(video: Path, seconds: float, tag: str = "") -> Path:
    """Write `video`'s cover beside it as a PNG (atomically; `tag` as for atomic_output); its path.

    The cover art stored in the video, or where there is none, the frame the video shows
    at `seconds`.
    """
    png = read_cover(video) or png_bytes(decoded_frame(video, seconds))
    target = thumbnail_path(video)
    with atomic_output(target, tag) as temporary:
        temporary.write_bytes(png)
    return target


def decoded_frame(video: Path, seconds: float) -> np.ndarray:
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
        for frame in container.decode(stream):
            if frame.time is not None and frame.time + 1e-6 >= seconds:
                return frame.to_ndarray(format="rgb24")
    raise RenderError(f"{Path(video).name} has no frame at {seconds:g} s for a thumbnail")
