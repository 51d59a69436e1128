"""H.264 bitstream pieces for writing holds without encoding (`skip.py`).

Annex B NAL units, emulation prevention, Exp-Golomb codes, and the parts of the SPS,
PPS and slice header (ITU-T H.264 7.3.2.1, 7.3.2.2, 7.3.3) that a slice header's
fields depend on. A slice header is rewritten by splicing: its RBSP is read as a bit
string, fields are located by `parse_slice_header`, and `splice` replaces bit ranges
before the byte-aligned CABAC slice data, which is copied as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "NalUnit",
    "Pps",
    "SliceHeader",
    "Sps",
    "annexb",
    "bits_ue",
    "ebsp_to_rbsp",
    "parse_pps",
    "parse_slice_header",
    "parse_sps",
    "rbsp_to_ebsp",
    "rebuild_slice",
    "splice",
    "split_nals",
    "with_poc_lsb_bits",
]

_START = re.compile(b"\x00\x00\x01")
_EMULATED = re.compile(b"\x00\x00(?=[\x00-\x03])")


@dataclass
class NalUnit:
    ref_idc: int
    type: int
    rbsp: bytes  # after the one-byte header, emulation prevention removed


def split_nals(data: bytes) -> list[NalUnit]:
    """The NAL units of an Annex B byte stream."""
    starts = [m.end() for m in _START.finditer(data)]
    nals = []
    for i, start in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(data)
        body = data[start:end]
        if i + 1 < len(starts):
            body = body.rstrip(b"\x00")  # a 4-byte start code's leading zero, trailing zero bytes
        if body:
            nals.append(NalUnit((body[0] >> 5) & 3, body[0] & 31, ebsp_to_rbsp(body[1:])))
    return nals


def annexb(nals: list[NalUnit]) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + bytes([(n.ref_idc << 5) | n.type]) + rbsp_to_ebsp(n.rbsp) for n in nals)


def ebsp_to_rbsp(data: bytes) -> bytes:
    return re.sub(b"\x00\x00\x03", b"\x00\x00", data) if b"\x00\x00\x03" in data else data


def rbsp_to_ebsp(data: bytes) -> bytes:
    """Insert emulation_prevention_three_byte where two zeros precede a byte ≤ 3 (7.4.1)."""
    data = _EMULATED.sub(b"\x00\x00\x03", data)
    return data + b"\x03" if data.endswith(b"\x00") else data  # ends in a cabac_zero_word


def bits_ue(value: int) -> str:
    """ue(v) as a string of '0'/'1'."""
    code = bin(value + 1)[2:]
    return "0" * (len(code) - 1) + code


class _Reader:
    def __init__(self, rbsp: bytes) -> None:
        # One conversion of the whole buffer: a format per byte cost 0.4 s a 1080p minute.
        self.bits = format(int.from_bytes(rbsp, "big"), f"0{8 * len(rbsp)}b") if rbsp else ""
        self.pos = 0

    def u(self, n: int) -> int:
        if n == 0:
            return 0
        if self.pos + n > len(self.bits):
            raise ValueError("H.264 syntax runs past the end of its NAL unit")
        value = int(self.bits[self.pos : self.pos + n], 2)
        self.pos += n
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


@dataclass
class Sps:
    id: int
    frame_mbs_only: bool
    log2_max_frame_num: int
    poc_type: int
    log2_max_poc_lsb: int
    separate_colour_plane: bool
    poc_lsb_span: tuple[int, int]  # bit range of log2_max_pic_order_cnt_lsb_minus4 in the RBSP
    width_mbs: int
    height_mbs: int


def _skip_scaling_list(r: _Reader, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt:
            nxt = (last + r.se() + 256) % 256
        last = nxt or last


def parse_sps(rbsp: bytes) -> Sps:
    r = _Reader(rbsp)
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    sps_id = r.ue()
    separate = False
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        chroma = r.ue()
        if chroma == 3:
            separate = bool(r.u(1))
        r.ue()
        r.ue()
        r.u(1)
        if r.u(1):
            for i in range(8 if chroma != 3 else 12):
                if r.u(1):
                    _skip_scaling_list(r, 16 if i < 6 else 64)
    log2_frame = r.ue() + 4
    poc_type = r.ue()
    lsb = 0
    span = (0, 0)
    if poc_type == 0:
        start = r.pos
        lsb = r.ue() + 4
        span = (start, r.pos)
    elif poc_type == 1:
        raise ValueError("pic_order_cnt_type 1 is not handled")
    r.ue()  # max_num_ref_frames
    r.u(1)
    width = r.ue() + 1
    height = r.ue() + 1
    mbs_only = bool(r.u(1))
    return Sps(sps_id, mbs_only, log2_frame, poc_type, lsb, separate, span, width, height)


def with_poc_lsb_bits(rbsp: bytes, sps: Sps, log2: int) -> bytes:
    """The SPS RBSP with log2_max_pic_order_cnt_lsb set to `log2`."""
    a, b = sps.poc_lsb_span
    return _trail(splice(_bits(rbsp), [(a, b, bits_ue(log2 - 4))]))


@dataclass
class Pps:
    id: int
    sps_id: int
    cabac: bool
    bottom_field_poc: bool
    num_ref_idx_default: tuple[int, int]
    weighted_pred: bool
    weighted_bipred: int
    deblocking_control: bool
    redundant_pic_cnt: bool


def parse_pps(rbsp: bytes) -> Pps:
    r = _Reader(rbsp)
    pps_id, sps_id = r.ue(), r.ue()
    cabac = bool(r.u(1))
    bottom = bool(r.u(1))
    if r.ue() != 0:
        raise ValueError("slice groups are not handled")
    l0, l1 = r.ue() + 1, r.ue() + 1
    wp, wbp = bool(r.u(1)), r.u(2)
    r.se()
    r.se()
    r.se()
    deblock = bool(r.u(1))
    r.u(1)
    redundant = bool(r.u(1))
    return Pps(pps_id, sps_id, cabac, bottom, (l0, l1), wp, wbp, deblock, redundant)


@dataclass
class SliceHeader:
    slice_type: int  # 0 P, 1 B, 2 I (mod 5)
    frame_num: int
    frame_num_span: tuple[int, int]
    poc_lsb: int
    poc_span: tuple[int, int]
    list_mod_span: tuple[int, int]  # ref_pic_list_modification() of a P slice
    marking_span: tuple[int, int]  # dec_ref_pic_marking()
    header_end: int  # bit position after slice_header(), before cabac_alignment_one_bit
    data_start: int  # bit position of slice_data() (byte aligned under CABAC)
    idr: bool
    fields: dict[str, int] = field(default_factory=dict)


def parse_slice_header(nal: NalUnit, sps: Sps, pps: Pps, chroma_array_type: int = 1) -> SliceHeader:
    r = _Reader(nal.rbsp[:1024])  # a header is far shorter; the slice data is not read
    r.ue()  # first_mb_in_slice
    slice_type = r.ue() % 5
    r.ue()  # pps id
    if sps.separate_colour_plane:
        r.u(2)
    fn_start = r.pos
    frame_num = r.u(sps.log2_max_frame_num)
    fn_span = (fn_start, r.pos)
    if not sps.frame_mbs_only and r.u(1):
        raise ValueError("field pictures are not handled")
    idr = nal.type == 5
    if idr:
        r.ue()
    poc_start = r.pos
    poc = r.u(sps.log2_max_poc_lsb) if sps.poc_type == 0 else 0
    poc_span = (poc_start, r.pos)
    if sps.poc_type == 0 and pps.bottom_field_poc:
        r.se()
    if pps.redundant_pic_cnt:
        r.ue()
    if slice_type == 1:
        r.u(1)  # direct_spatial_mv_pred_flag
    l0, l1 = pps.num_ref_idx_default
    if slice_type in (0, 1, 3) and r.u(1):  # num_ref_idx_active_override_flag
        l0 = r.ue() + 1
        if slice_type == 1:
            l1 = r.ue() + 1
    mod_start = r.pos
    if slice_type not in (2, 4):
        for _ in range(2 if slice_type == 1 else 1):
            if r.u(1):
                while (idc := r.ue()) != 3:
                    if idc > 5:
                        raise ValueError("bad modification_of_pic_nums_idc")
                    r.ue()
    mod_span = (mod_start, r.pos)
    if (pps.weighted_pred and slice_type in (0, 3)) or (pps.weighted_bipred == 1 and slice_type == 1):
        r.ue()
        if chroma_array_type:
            r.ue()
        for lst in range(2 if slice_type == 1 else 1):
            for _ in range(l0 if lst == 0 else l1):
                if r.u(1):
                    r.se()
                    r.se()
                if chroma_array_type and r.u(1):
                    for _ in range(4):
                        r.se()
    mark_start = r.pos
    if nal.ref_idc:
        if idr:
            r.u(2)
        elif r.u(1):
            while (op := r.ue()) != 0:
                if op in (1, 3):
                    r.ue()
                if op == 2:
                    r.ue()
                if op in (3, 6):
                    r.ue()
                if op == 4:
                    r.ue()
    mark_span = (mark_start, r.pos)
    if pps.cabac and slice_type not in (2, 4):
        r.ue()
    r.se()  # slice_qp_delta
    if pps.deblocking_control and r.ue() != 1:  # disable_deblocking_filter_idc
        r.se()
        r.se()
    end = r.pos
    data = (end + 7) // 8 * 8 if pps.cabac else end
    return SliceHeader(slice_type, frame_num, fn_span, poc, poc_span, mod_span, mark_span, end, data, idr)


def _bits(rbsp: bytes) -> str:
    return "".join(f"{b:08b}" for b in rbsp)


def splice(bits: str, edits: list[tuple[int, int, str]]) -> str:
    """`bits` with each (start, end) range replaced; ranges in order, not overlapping."""
    out, pos = [], 0
    for start, end, text in edits:
        out.append(bits[pos:start])
        out.append(text)
        pos = end
    out.append(bits[pos:])
    return "".join(out)


def _trail(bits: str) -> bytes:
    """Bits ending in rbsp_stop_one_bit and zero padding, re-aligned after a splice."""
    bits = bits.rstrip("0")
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def rebuild_slice(nal: NalUnit, header: SliceHeader, edits: list[tuple[int, int, str]]) -> bytes:
    """The slice's RBSP with `edits` made in its header and the CABAC data copied.

    The header is re-aligned with cabac_alignment_one_bits; the slice data, which
    starts byte aligned, is copied byte for byte.
    """
    bits = _bits(nal.rbsp[: header.header_end // 8 + 1])
    head = splice(bits[: header.header_end], edits)
    head += "1" * (-len(head) % 8)
    head_bytes = int(head, 2).to_bytes(len(head) // 8, "big") if head else b""
    return head_bytes + nal.rbsp[header.data_start // 8 :]
