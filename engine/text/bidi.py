"""Bidi: the embedding level of each character of a paragraph, and the order of runs.

    rtl = paragraph_rtl(text)          # rules P2–P3; None when nothing strong decides
    levels = bidi_levels(text, rtl)    # rules X1–I2 and L1, one byte per character
    order = visual_order(run_levels)   # rule L2: left-to-right order of runs (or characters)

The levels come from FriBiDi, the library raqm itself uses, called through ctypes
from the shared library Pillow's raqm loads (``libfribidi.so.0``), so nothing new is
installed: the whole of UAX #9 for a paragraph, explicit embeddings, overrides and
isolates, and the bracket pairs of rule N0 that keep "(Greek yoghurt)" in one piece
inside Arabic. Where FriBiDi cannot be loaded, a built-in subset is used: the weak and
neutral rules W1–W7, N1–N2 and I1–I2, without explicit embeddings, isolates or bracket
pairs. `bidi_backend()` says which, and the first paragraph logs it once.

Levels are per paragraph: L1 has reset segment separators, and whitespace before them
and at the paragraph's end, to the paragraph's level. Whitespace at the end of each
*line* is reset when lines are cut (`engine.text.runs`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["bidi_backend", "bidi_levels", "paragraph_rtl", "visual_order"]

log = logging.getLogger(__name__)

_STRONG_RTL = frozenset({"R", "AL"})
_ISOLATE_OPEN = frozenset({"LRI", "RLI", "FSI"})
# Types that can put a character of a left-to-right paragraph above level 0.
_RAISES = frozenset({"R", "AL", "AN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})


def paragraph_rtl(text: str) -> bool | None:
    """Rules P2–P3: the first strong character's direction, skipping isolates; None when none."""
    depth = 0
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in _ISOLATE_OPEN:
            depth += 1
        elif kind == "PDI":
            depth = max(0, depth - 1)
        elif depth:
            continue
        elif kind == "L":
            return False
        elif kind in _STRONG_RTL:
            return True
        elif kind == "B":
            break
    return None


def bidi_levels(text: str, rtl: bool) -> bytes:
    """Embedding level of each character of a paragraph whose base direction is `rtl`."""
    n = len(text)
    if n == 0:
        return b""
    if not rtl and (text.isascii() or not any(unicodedata.bidirectional(ch) in _RAISES for ch in text)):
        return bytes(n)  # nothing right-to-left or explicit: every level is 0 (most text)
    fribidi = _fribidi()
    if fribidi is not None:
        levels = fribidi.levels(text, rtl)
        if levels is not None:
            return levels
    return _builtin_levels(text, rtl)


def visual_order(levels: Sequence[int]) -> list[int]:
    """Rule L2: the order in which items at these levels are shown, left to right."""
    order = list(range(len(levels)))
    if not order:
        return order
    highest = max(levels)
    lowest_odd = min((lv for lv in levels if lv % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return order


def bidi_backend() -> str:
    """What resolves bidi levels here: FriBiDi and its version, or the built-in subset and why."""
    fribidi = _fribidi()
    if fribidi is not None:
        return f"FriBiDi {fribidi.version} ({fribidi.name})"
    return f"built-in UAX #9 subset, without explicit embeddings, isolates or bracket pairs ({_why_not()})"


# ── FriBiDi ───────────────────────────────────────────────────────────────────────

# fribidi-bidi-types.h: FRIBIDI_PAR_LTR = FRIBIDI_TYPE_LTR_VAL = MASK_STRONG | MASK_LETTER,
# FRIBIDI_PAR_RTL = FRIBIDI_TYPE_RTL_VAL = that | MASK_RTL.
_PAR_LTR = 0x00000010 | 0x00000100
_PAR_RTL = _PAR_LTR | 0x00000001

# Where Pillow's raqm looks for it (its fribidi shim), then wherever the system says.
_LIBRARY_NAMES = {
    "linux": ("libfribidi.so.0",),
    "darwin": ("libfribidi.0.dylib", "libfribidi.dylib"),
    "win32": ("fribidi-0.dll", "libfribidi-0.dll", "fribidi.dll"),
}

_u32p = ctypes.POINTER(ctypes.c_uint32)


class _FriBidi:
    """The three FriBiDi ≥ 1.0 entry points the levels need, with their C signatures.

    fribidi-types.h and fribidi-bidi-types.h: FriBidiChar, FriBidiCharType,
    FriBidiBracketType and FriBidiParType are uint32_t, FriBidiStrIndex is int,
    FriBidiLevel is signed char.
    """

    def __init__(self, lib: ctypes.CDLL, name: str):
        self.name = name
        self._types = lib.fribidi_get_bidi_types
        self._types.argtypes = (_u32p, ctypes.c_int, _u32p)
        self._types.restype = None
        self._brackets = lib.fribidi_get_bracket_types
        self._brackets.argtypes = (_u32p, ctypes.c_int, _u32p, _u32p)
        self._brackets.restype = None
        self._levels = lib.fribidi_get_par_embedding_levels_ex
        self._levels.argtypes = (_u32p, _u32p, ctypes.c_int, _u32p, ctypes.POINTER(ctypes.c_int8))
        self._levels.restype = ctypes.c_int8  # the highest level + 1; 0 on failure
        try:
            info = ctypes.c_char_p.in_dll(lib, "fribidi_version_info").value or b""
            self.version = info.decode("ascii", "replace").splitlines()[0].split()[-1]
        except (ValueError, IndexError):
            self.version = "?"

    def levels(self, text: str, rtl: bool) -> bytes | None:
        n = len(text)
        chars = (ctypes.c_uint32 * n).from_buffer_copy(text.encode("utf-32-le", "surrogatepass"))
        types = (ctypes.c_uint32 * n)()
        brackets = (ctypes.c_uint32 * n)()
        levels = (ctypes.c_int8 * n)()
        self._types(chars, n, types)
        self._brackets(chars, n, types, brackets)
        direction = ctypes.c_uint32(_PAR_RTL if rtl else _PAR_LTR)
        if not self._levels(types, brackets, n, ctypes.byref(direction), levels):
            log.warning("FriBiDi failed on a paragraph of %d characters; using the built-in bidi rules for it", n)
            return None
        return ctypes.string_at(levels, n)  # levels are 0..126: the bytes are the values


@lru_cache(maxsize=1)
def _loaded() -> tuple[_FriBidi | None, str]:
    """FriBiDi (or None and why not), loaded once; logs once which implementation is used."""
    fribidi, why_not = _load_fribidi()
    if fribidi is not None:
        log.info("bidi levels from FriBiDi %s (%s)", fribidi.version, fribidi.name)
    else:
        log.warning(
            "FriBiDi cannot be loaded (%s): bidi levels come from a built-in subset of UAX #9, so brackets "
            "and explicit embeddings in right-to-left text may be misplaced",
            why_not,
        )
    return fribidi, why_not


def _fribidi() -> _FriBidi | None:
    return _loaded()[0]


def _why_not() -> str:
    return _loaded()[1]


def _load_fribidi() -> tuple[_FriBidi | None, str]:
    names = list(_LIBRARY_NAMES.get(sys.platform, _LIBRARY_NAMES["linux"]))
    found = ctypes.util.find_library("fribidi")
    if found and found not in names:
        names.append(found)
    errors = []
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            errors.append(f"{name}: {exc}")
            continue
        try:
            return _FriBidi(lib, name), ""
        except AttributeError as exc:  # FriBiDi before 1.0 has no bracket pairs
            errors.append(f"{name}: {exc}")
    return None, "; ".join(errors)


# ── built-in subset (when FriBiDi is missing) ─────────────────────────────────────

_NEUTRAL = frozenset({"B", "S", "WS", "ON", "BN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
# L1: reset to the paragraph's level before a separator and at the end, with the separators.
_RESET = frozenset({"WS", "BN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})


def _builtin_levels(text: str, rtl: bool) -> bytes:
    """UAX #9 for implicit text: W1–W7, N1–N2, I1–I2 and L1 (explicit codes count as neutrals)."""
    base = 1 if rtl else 0
    n = len(text)
    original = [unicodedata.bidirectional(ch) or "L" for ch in text]
    types = list(original)
    sos = "R" if base else "L"
    # W1: a non-spacing mark takes the type of what it follows.
    prev = sos
    for i, t in enumerate(types):
        if t == "NSM":
            types[i] = "ON" if prev in _NEUTRAL else prev
        else:
            prev = t
    # W2 + W3: European numbers after Arabic letters are Arabic numbers; AL is R.
    last_strong = sos
    for i, t in enumerate(types):
        if t in ("L", "R", "AL"):
            last_strong = t
        elif t == "EN" and last_strong == "AL":
            types[i] = "AN"
    types = ["R" if t == "AL" else t for t in types]
    # W4: one separator between two numbers of the same kind joins them.
    for i in range(1, n - 1):
        t, before, after = types[i], types[i - 1], types[i + 1]
        if t == "ES" and before == after == "EN":
            types[i] = "EN"
        elif t == "CS" and before == after and before in ("EN", "AN"):
            types[i] = before
    # W5: terminators next to European numbers are numbers.
    i = 0
    while i < n:
        if types[i] == "ET":
            j = i
            while j < n and types[j] == "ET":
                j += 1
            if (i > 0 and types[i - 1] == "EN") or (j < n and types[j] == "EN"):
                types[i:j] = ["EN"] * (j - i)
            i = j
        else:
            i += 1
    # W6: other separators and terminators are neutral.
    types = ["ON" if t in ("ES", "ET", "CS") else t for t in types]
    # W7: European numbers after L are L.
    last_strong = sos
    for i, t in enumerate(types):
        if t in ("L", "R"):
            last_strong = t
        elif t == "EN" and last_strong == "L":
            types[i] = "L"
    # N1/N2: a run of neutrals between two of the same direction takes it, else the base's.
    i = 0
    while i < n:
        if types[i] in _NEUTRAL:
            j = i
            while j < n and types[j] in _NEUTRAL:
                j += 1
            before = sos if i == 0 else ("R" if types[i - 1] in ("R", "EN", "AN") else "L")
            after = sos if j == n else ("R" if types[j] in ("R", "EN", "AN") else "L")
            fill = before if before == after else ("R" if base else "L")
            types[i:j] = [fill] * (j - i)
            i = j
        else:
            i += 1
    # I1/I2
    levels = bytearray(n)
    for i, t in enumerate(types):
        if base == 0:
            levels[i] = 1 if t == "R" else 2 if t in ("AN", "EN") else 0
        else:
            levels[i] = 2 if t in ("L", "EN", "AN") else 1
    # L1: separators, and whitespace before them or at the paragraph's end, at the base level.
    reset = True
    for i in range(n - 1, -1, -1):
        t = original[i]
        if t in ("S", "B"):
            reset = True
        elif t not in _RESET:
            reset = False
        if reset:
            levels[i] = base
    return bytes(levels)
