"""Holds without encoding: x264 codes only the frames that must be coded, the rest of a
hold is written as all-skip P-frames built here.

x264 is fed the first frame of each hold (forced to a reference P-frame, or an IDR
where the keyframe interval falls) and every frame that is not a hold. Each other frame
of a hold becomes a copy of a *template*: the slice x264 writes for a P-frame identical
to the frame before (every macroblock P_Skip, so with a zero motion vector: the decoded
picture is the reference's exactly). Only header fields change per copy (H.264 7.3.3):

- ``nal_ref_idc`` 0: a non-reference picture, so the decoded picture buffer x264
  planned for is untouched, and ``frame_num`` is PrevRefFrameNum + 1 (7.4.3), the value
  x264's next reference picture carries anyway: x264's own frame numbering stays valid.
- ``ref_pic_list_modification`` puts the hold's coded frame at index 0 of list 0 (a
  reference B-frame of the pyramid may have been decoded after it).
- ``pic_order_cnt_lsb``: picture order counts are rewritten in every slice, x264's
  included, as 2 × (frames since the IDR) (8.2.1, type 0). The SPS's
  log2_max_pic_order_cnt_lsb is raised so that a GOP's counts never wrap, so no gap
  between reference pictures can make a decoder misjudge the count's high bits.

Packets leave in decode order: a hold's skip frames right after its coded frame (and
the B-frames x264 decodes after it), before anything later. Timestamps are the display
index (pts) and decode index less x264's reordering delay (dts); only IDRs are
keyframes. CABAC slices only, picture order count type 0 (x264 with B-frames).
"""

from __future__ import annotations

from dataclasses import dataclass

from .bitstream import (
    NalUnit,
    SliceHeader,
    annexb,
    bits_ue,
    parse_pps,
    parse_slice_header,
    parse_sps,
    rebuild_slice,
    split_nals,
    with_poc_lsb_bits,
)

__all__ = ["X264_REFS", "Coded", "OutPacket", "SkipStream", "Unsupported", "plan_hold"]

_SLICE, _IDR, _SPS, _PPS = 1, 5, 7, 8


class Unsupported(ValueError):  # a reason to keep the normal path, not an error
    """The stream's settings are outside what `SkipStream` rewrites (CAVLC, POC type 2)."""


@dataclass(frozen=True)
class OutPacket:
    data: bytes  # Annex B
    pts: int
    dts: int
    keyframe: bool


@dataclass(frozen=True)
class Coded:
    pts: int
    kind: str  # "I" (an IDR), "P" (a reference P-frame), or "auto" (x264 chooses)
    repeats: range  # the frames after it that are skip frames showing it


#: x264's reference frames at each preset (x264 --fullhelp); a B-frame may predict from
#: this many reference pictures before it.
X264_REFS = {"ultrafast": 1, "superfast": 1, "veryfast": 1, "faster": 2, "fast": 2, "medium": 3, "slow": 5}


def plan_hold(
    first_pts: int, count: int, gop: int, last_fed: int | None, force_p: int, refs: int
) -> tuple[list[Coded], int]:
    """Which of frames first_pts … first_pts + count − 1 (one picture) x264 codes, and as
    what; `last_fed` is the last frame x264 was given before, `force_p` how many frames
    it must still code as P-frames after the last gap. Returns the plan and the new
    `force_p`.

    The first frame and each keyframe (every `gop` frames) are coded; the frames after
    each are skip frames. A frame with skip frames after it is a reference P-frame (or
    an IDR). After a gap in what x264 sees, its next `refs` frames are P-frames, so no
    B-frame has a reference from before the gap: x264 weighs B-frames by its own
    picture distances (implicit weighted bi-prediction), which the skipped frames
    lengthen.
    """
    end = first_pts + count
    coded = [first_pts] + [p for p in range(first_pts + 1, end) if p % gop == 0]
    plan = []
    previous = last_fed
    for i, pts in enumerate(coded):
        run_end = coded[i + 1] if i + 1 < len(coded) else end
        if previous is not None and pts != previous + 1:
            force_p = refs
        if pts % gop == 0:
            kind, force_p = "I", 0  # an IDR empties the reference list
        elif run_end > pts + 1 or force_p:
            kind, force_p = "P", max(force_p - 1, 0)
        else:
            kind = "auto"
        plan.append(Coded(pts, kind, range(pts + 1, run_end)))
        previous = pts
    return plan, force_p


class SkipStream:
    """x264's packets (fed a subset of the frames) plus holds in, one valid stream out."""

    def __init__(self, extradata: bytes, template_packet: bytes, gop: int, delay: int) -> None:
        nals = split_nals(extradata)
        sps_nal = next((n for n in nals if n.type == _SPS), None)
        pps_nal = next((n for n in nals if n.type == _PPS), None)
        if sps_nal is None or pps_nal is None:
            raise Unsupported("the encoder's extradata holds no SPS/PPS")
        try:
            self.sps, self.pps = parse_sps(sps_nal.rbsp), parse_pps(pps_nal.rbsp)
        except ValueError as exc:
            raise Unsupported(str(exc)) from exc
        if self.sps.poc_type != 0:
            raise Unsupported(f"pic_order_cnt_type {self.sps.poc_type} (x264 writes type 0 only with B-frames)")
        if not self.pps.cabac:
            raise Unsupported("CAVLC slices (the skip template is copied as byte-aligned CABAC data)")
        if not self.sps.frame_mbs_only:
            raise Unsupported("interlaced coding")
        log2 = max(self.sps.log2_max_poc_lsb, (4 * gop).bit_length())
        if log2 > 16:
            raise Unsupported(f"a {gop}-frame GOP is too long for picture order counts that never wrap")
        self.log2_poc = log2
        sps_out = NalUnit(sps_nal.ref_idc, _SPS, with_poc_lsb_bits(sps_nal.rbsp, self.sps, log2))
        self.extradata = annexb([sps_out if n.type == _SPS else n for n in nals])
        # One slice per picture, or one per thread where x264 slices its frames
        # (sliced threads): each is copied with its own header rewritten.
        slices = [n for n in split_nals(template_packet) if n.type == _SLICE]
        if not slices:
            raise Unsupported("the template frame has no slice")
        self._templates = [(nal, parse_slice_header(nal, self.sps, self.pps)) for nal in slices]
        if any(header.slice_type != 0 for _, header in self._templates):
            raise Unsupported("x264 did not code the repeated template frame as a P-frame")
        self.gop = gop
        self.delay = delay
        self._max_frame_num = 1 << self.sps.log2_max_frame_num
        self._last_idr = 0
        self._prev_ref_frame_num = 0
        self._frame_nums: dict[int, int] = {}  # a hold's coded pts → its frame_num
        self._pending: list[tuple[int, range]] = []  # (coded pts, the pts it is held for)
        self._decoded = 0
        self.skipped = 0

    # -- what the encoder tells it ------------------------------------------------------

    def hold(self, coded_pts: int, repeats: range) -> None:
        """Frames `repeats` show the frame x264 coded at `coded_pts` (a reference frame)."""
        if repeats:
            self._pending.append((coded_pts, repeats))

    def coded(self, data: bytes, pts: int) -> list[OutPacket]:
        """One of x264's packets (Annex B, in its decode order): what to write, in order."""
        out = self._flush(before=pts)
        nals = split_nals(data)
        idr = any(n.type == _IDR for n in nals)
        if idr:
            self._last_idr = pts
        rewritten = []
        for nal in nals:
            if nal.type in (_SLICE, _IDR):
                header = parse_slice_header(nal, self.sps, self.pps)
                if nal.ref_idc:
                    self._prev_ref_frame_num = header.frame_num
                if self._pending and any(c == pts for c, _ in self._pending):
                    if not nal.ref_idc:
                        raise ValueError(f"frame {pts}, a hold's coded frame, is not a reference frame")
                    self._frame_nums[pts] = header.frame_num
                nal = NalUnit(nal.ref_idc, nal.type, rebuild_slice(nal, header, [self._poc_edit(header, pts)]))
            rewritten.append(nal)
        out.append(self._packet(annexb(rewritten), pts, idr))
        return out

    def finish(self) -> list[OutPacket]:
        """The skip frames still waiting after x264's last packet."""
        return self._flush(before=None)

    # -- inside -------------------------------------------------------------------------

    def _poc_edit(self, header: SliceHeader, pts: int) -> tuple[int, int, str]:
        poc = 2 * (pts - self._last_idr)
        if not 0 <= poc < 1 << self.log2_poc:
            raise ValueError(f"frame {pts}: picture order count {poc} is outside its GOP (IDR at {self._last_idr})")
        start, end = header.poc_span
        return start, end, format(poc, f"0{self.log2_poc}b")

    def _packet(self, data: bytes, pts: int, keyframe: bool) -> OutPacket:
        packet = OutPacket(data, pts, self._decoded - self.delay, keyframe)
        self._decoded += 1
        return packet

    def _flush(self, before: int | None) -> list[OutPacket]:
        out: list[OutPacket] = []
        keep: list[tuple[int, range]] = []
        for coded_pts, repeats in self._pending:
            if (before is None or coded_pts < before) and coded_pts in self._frame_nums:
                out.extend(self._skip(coded_pts, pts) for pts in repeats)
                del self._frame_nums[coded_pts]
            else:
                keep.append((coded_pts, repeats))
        self._pending = keep
        if before is None and keep:
            raise ValueError(f"frame {keep[0][0]}, a hold's coded frame, never came out of the encoder")
        return out

    def _skip(self, coded_pts: int, pts: int) -> OutPacket:
        frame_num = (self._prev_ref_frame_num + 1) % self._max_frame_num
        anchor = self._frame_nums[coded_pts]
        anchor_pic_num = anchor if anchor <= frame_num else anchor - self._max_frame_num
        diff = frame_num - anchor_pic_num
        if diff < 1:
            raise ValueError(f"frame {pts}: its reference (frame_num {anchor}) is not before it")
        width = self.sps.log2_max_frame_num
        nals = []
        for template, header in self._templates:
            edits = [
                (*header.frame_num_span, format(frame_num, f"0{width}b")),
                self._poc_edit(header, pts),
                # ref_pic_list_modification_flag_l0 = 1; subtract diff from CurrPicNum; end.
                (*header.list_mod_span, "1" + bits_ue(0) + bits_ue(diff - 1) + bits_ue(3)),
                (*header.marking_span, ""),  # a non-reference picture has no dec_ref_pic_marking()
            ]
            nals.append(NalUnit(0, _SLICE, rebuild_slice(template, header, edits)))
        self.skipped += 1
        return self._packet(annexb(nals), pts, False)
