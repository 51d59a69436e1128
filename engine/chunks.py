"""Chunked renders: where a video is cut into chunks, and how the chunks are joined.

A chunk is frames [start, end) of one output, rendered on its own (its own process,
compositor and encoder: `pipeline.render_output(frames=…)`). Every chunk starts on a
keyframe, and the encoders' GOPs are closed, so a chunk opens with an IDR that
references nothing before it. Joining is then a copy of packets, with each chunk's
timestamps moved by its start: no frame is decoded or encoded again.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .errors import RenderError, SpecError

__all__ = ["JoinStats", "join_chunks", "plan_chunks"]


def plan_chunks(frame_count: int, gop: int, count: int) -> list[tuple[int, int]]:
    """`frame_count` frames cut into at most `count` chunks of whole GOPs, as even as can be.

    Fewer chunks than asked when the video has fewer GOPs; one chunk is the whole video.
    """
    if count < 1:
        raise SpecError(f"{count} chunks: at least one", "chunks")
    gops = math.ceil(frame_count / gop)
    count = min(count, gops)
    starts = [round(i * gops / count) * gop for i in range(count)]
    return [(start, min(end, frame_count)) for start, end in zip(starts, [*starts[1:], frame_count])]


@dataclass(frozen=True)
class JoinStats:
    frames: int
    keyframes: list[int]  # frame numbers of the joined file's keyframes
    bytes: int


def join_chunks(parts: Sequence[Path], spans: Sequence[tuple[int, int]], target: Path, fps: int) -> JoinStats:
    """Write `target` (MP4, video only) from chunk files, copying their packets.

    `spans` are each part's frames of the whole video, in order and touching. Raises
    RenderError when a part does not fit its neighbours: another codec, size or
    parameter sets (SPS/PPS), a first frame that is not a keyframe, or a frame count
    other than its span's.
    """
    import av

    if len(parts) != len(spans) or not parts:
        raise RenderError(f"{len(parts)} chunk files for {len(spans)} chunks")
    for (_, end), (start, _) in itertools.pairwise(spans):
        if end != start:
            raise RenderError(f"chunks do not touch: one ends at frame {end}, the next starts at {start}")
    frame_ticks: Fraction | None = None
    reference = None  # (codec, width, height, extradata) of the first part
    keyframes: list[int] = []
    written = 0
    output = av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        out_stream = None
        for part, (start, end) in zip(parts, spans):
            with av.open(str(part)) as source:
                if not source.streams.video:
                    raise RenderError(f"chunk {part} has no video stream")
                stream = source.streams.video[0]
                context = stream.codec_context
                shape = (context.name, context.width, context.height, bytes(context.extradata or b""))
                if reference is None:
                    reference = shape
                    out_stream = output.add_stream_from_template(stream, opaque=True)
                elif shape != reference:
                    raise RenderError(
                        f"chunk {part} does not match the first chunk ({shape[0]} {shape[1]}x{shape[2]} "
                        f"against {reference[0]} {reference[1]}x{reference[2]}, or other parameter sets)"
                    )
                ticks = 1 / (fps * stream.time_base)  # one frame, in the part's time base
                if ticks.denominator != 1 or (frame_ticks is not None and ticks != frame_ticks):
                    raise RenderError(f"chunk {part}: time base {stream.time_base} does not count whole frames")
                frame_ticks = ticks
                offset = int(start * ticks)
                count, first = 0, True
                for packet in source.demux(stream):
                    if packet.dts is None:  # the demuxer's flush packet
                        continue
                    if first and not packet.is_keyframe:
                        raise RenderError(f"chunk {part} does not start with a keyframe")
                    first = False
                    if packet.is_keyframe:
                        keyframes.append(start + int(packet.pts / ticks))
                    packet.pts += offset
                    packet.dts += offset
                    packet.stream = out_stream
                    output.mux(packet)
                    count += 1
                if count != end - start:
                    raise RenderError(f"chunk {part} holds {count} frames, its span {start}-{end} has {end - start}")
                written += count
        output.close()
    except BaseException:
        try:
            output.close()
        except Exception:  # noqa: BLE001, S110 - the file is removed by whoever made the path
            pass
        raise
    return JoinStats(written, sorted(keyframes), Path(target).stat().st_size)
