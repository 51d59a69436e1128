"""Where lines break: words, a first-fit wrap, and the breaks that read best.

    lines = wrap(paras, size, width, break_words=False)   # [(para, start, end), ...] or None
    lines = refine(lines, size, width, balance=True)      # same count, better breaks

A paragraph is cut into words at spaces (Chinese and Japanese between the characters
where a line may break, engine.text.shaping.cjk_breaks), with a lone separator ("·",
"—", "/") glued to the word before, so that it ends a line instead of starting one.

`wrap` is first fit: each line takes as many words as fit, which gives the fewest
lines, and breaks a word wider than a line (between clusters, after a hyphen or slash
where one is near) only when asked. Every measure is of the runs that will be drawn
(engine.text.runs), so what fits is what is drawn.

`refine` keeps each paragraph's line count and every line within the width, and
chooses the breaks again, by a small dynamic programme over the word boundaries:

- never one short word (``ORPHAN_CHARS`` characters or fewer) alone on the last line
  of a paragraph of several lines: a word comes down from the line before (and from
  the ones before that, where the line it left would be much shorter than the rest);
- a break right after punctuation ("," "·" "—" ":" ";" "." …) is preferred where it
  costs little width;
- ragged text otherwise keeps first fit's breaks (each line as full as it can be,
  none much shorter than the width), so ordinary paragraphs do not move;
- balanced text (titles, captions: CSS ``text-wrap: balance``) makes its lines of
  similar length, phrases kept whole where that costs little.

Nothing here depends on direction: lines are spans of the logical text, so
right-to-left paragraphs are broken and balanced the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from .fallback import Para, clusters
from .runs import shape_line
from .shaping import cjk_breaks

__all__ = ["ORPHAN_CHARS", "LineRef", "ends_phrase", "is_orphan", "refine", "words", "wrap"]

#: One line to set: characters [start, end) of an itemized paragraph.
LineRef = tuple[Para, int, int]

#: Separators that end a line rather than start one: "wrap ·" / "540 kcal".
GLUE_LEFT = frozenset("·•—–-/|:")

#: A last line of one word this short (in characters) is an orphan.
ORPHAN_CHARS = 6

#: Characters after which a line may well end: a phrase or a sentence is over.
PHRASE_ENDS = frozenset(",;:.!?·•—–\u060c\u061b\u061f\u3001\u3002\uff0c\uff1b\uff1a\uff01\uff1f")
_CLOSERS = "\"'”’»)]}」』）"

# ── costs of the break chooser, in units of the line width ───────────────────────
#: A non-last line may give up this much of the width without cost beyond its slack...
_LOOSE = 0.3
#: ...and pays this much per (fraction beyond it)² when it gives up more.
_TOO_LOOSE = 12.0
#: A line that does not end a phrase pays this (ragged text, then balanced text).
_NO_PHRASE = 0.08
_NO_PHRASE_BALANCED = 0.25
#: Balanced lines may run this much past their target width, at this cost per (fraction)².
_OVER = 0.15
_TOO_WIDE = 40.0
#: An orphan: avoided whenever the line count allows.
_ORPHAN = 50.0
#: Earlier lines weigh a little more, so ties go to first fit's fuller early lines.
_EARLY = 0.05


def words(text: str) -> list[tuple[int, int]]:
    """(start, end) of the words of a squeezed paragraph, a lone separator glued to the word before."""
    found: list[tuple[int, int]] = []
    start = 0
    for word in text.split(" "):
        end = start + len(word)
        if word:
            if found and word in GLUE_LEFT:
                found[-1] = (found[-1][0], end)
            else:
                cuts = [start + i for i in cjk_breaks(word)]
                found.extend(zip([start, *cuts], [*cuts, end]))
        start = end + 1
    return found


def ends_phrase(word: str) -> bool:
    """Whether a line ending with `word` ends a phrase: its last mark (closing quotes aside) is punctuation."""
    word = word.rstrip(_CLOSERS)
    return bool(word) and word[-1] in PHRASE_ENDS


def is_orphan(line: str) -> bool:
    """Whether `line`, the last of several, is an orphan: one word of ``ORPHAN_CHARS`` characters or fewer."""
    found = words(line)
    return len(found) == 1 and len(line[found[0][0] : found[0][1]].replace(" ", "")) <= ORPHAN_CHARS


def _width(para: Para, start: int, end: int, size: int) -> int:
    return shape_line(para, start, end, size).width


def wrap(paras: Sequence[Para], size: int, width: int, break_words: bool) -> list[LineRef] | None:
    """First-fit word wrap; None when a word is wider than a line and may not be broken."""
    lines: list[LineRef] = []
    for para in paras:
        start = end = None
        for ws, we in words(para.text):
            if start is not None and _width(para, start, we, size) <= width:
                end = we
                continue
            if start is not None:
                lines.append((para, start, end))
                start = None
            if _width(para, ws, we, size) <= width:
                start, end = ws, we
                continue
            if not break_words:
                return None
            pieces = _break_word(para, ws, we, size, width)
            lines.extend((para, a, b) for a, b in pieces[:-1])
            start, end = pieces[-1]
        lines.append((para, start or 0, end or 0))
    return lines


def _break_word(para: Para, start: int, end: int, size: int, width: int) -> list[tuple[int, int]]:
    """Split a word wider than a line (between clusters), after a hyphen or slash where one is near."""
    text = para.text
    pieces = []
    a = b = start
    for cs, ce in clusters(text[start:end]):
        cs, ce = start + cs, start + ce
        if b > a and _width(para, a, ce, size) > width:
            current = text[a:b]
            cut = max(current.rfind("-"), current.rfind("/")) + 1
            if cut < len(current) // 3:  # no break point in the last two thirds
                cut = len(current)
            pieces.append((a, a + cut))
            a += cut
        b = ce
    pieces.append((a, b))
    return pieces


def refine(lines: Sequence[LineRef], size: int, width: int, balance: bool = False) -> list[LineRef]:
    """`lines` (from `wrap`) with each paragraph's breaks chosen again; same count, none wider.

    A paragraph with a word broken across lines keeps its breaks.
    """
    out: list[LineRef] = []
    i = 0
    while i < len(lines):
        para = lines[i][0]
        j = i
        while j < len(lines) and lines[j][0] is para:
            j += 1
        group = list(lines[i:j])
        if len(group) > 1:
            group = _choose(para, group, size, width, balance) or group
        out.extend(group)
        i = j
    return out


def _narrowest(para: Para, size: int, width: int, n: int) -> int:
    """The narrowest width at which first fit still sets `para` in `n` lines (balance's target)."""
    lo, hi = max(1, width // n), width
    while lo < hi:
        mid = (lo + hi) // 2
        trial = wrap([para], size, mid, break_words=False)
        if trial is not None and len(trial) <= n:
            hi = mid
        else:
            lo = mid + 1
    return hi


def _choose(para: Para, group: list[LineRef], size: int, width: int, balance: bool) -> list[LineRef] | None:
    """The best breaks for `para` in len(group) lines, or None to keep `group`.

    Ragged text measures each line against `width`; balanced text against the
    narrowest width that keeps the line count (where first fit gives CSS's balance),
    and a line may run a little past that (``_OVER``) only to end a phrase, or (the last
    line) to save an orphan.
    """
    spans = words(para.text)
    starts = {s: k for k, (s, _) in enumerate(spans)}
    ends = {e: k for k, (_, e) in enumerate(spans)}
    if any(a not in starts or b not in ends for _, a, b in group):
        return None  # a broken word (or a line that is not whole words): leave it
    n, m = len(group), len(spans)
    text = para.text
    target = _narrowest(para, size, width, n) if balance else width
    limit = min(width, round(target * (1 + _OVER))) if balance else width
    no_phrase = _NO_PHRASE_BALANCED if balance else _NO_PHRASE
    measured: dict[tuple[int, int], int] = {}

    def line_width(i: int, j: int) -> int:  # words [i, j) as one line
        key = (i, j)
        if key not in measured:
            measured[key] = _width(para, spans[i][0], spans[j - 1][1], size)
        return measured[key]

    ending = [0.0 if ends_phrase(text[s:e]) else no_phrase for s, e in spans]  # a line ending after word k
    # No looser than first fit's loosest line (or _LOOSE) costs nothing extra: first fit stays the optimum.
    first_fit = wrap([para], size, target, break_words=False) if balance else group
    if first_fit is None or len(first_fit) != n:
        return None
    loosest = max((target - line_width(*_bounds(g, starts, ends))) / target for g in first_fit[:-1])
    free = max(_LOOSE, loosest)
    short = [is_orphan(text[s:e]) for s, e in spans]

    def cost(i: int, j: int, k: int) -> float:
        slack = (target - line_width(i, j)) / target
        over = _TOO_WIDE * min(0.0, slack) ** 2
        if j == m:  # the last line: any length, but not one short word
            return over + (_ORPHAN if j - i == 1 and short[i] else 0.0)
        if slack < 0 and ending[j - 1]:
            return float("inf")  # past the target only to end a phrase (or save an orphan, below)
        loose = max(0.0, slack) * (1 + _EARLY * (n - k)) + _TOO_LOOSE * max(0.0, slack - free) ** 2
        return over + loose + ending[j - 1]

    lo, hi = _break_ranges(line_width, m, n, limit)
    inf = float("inf")
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    back = [[-1] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for k in range(1, n + 1):
        for j in range(lo[k], hi[k] + 1):
            for i in range(min(j - 1, hi[k - 1]), lo[k - 1] - 1, -1):
                if line_width(i, j) > limit:
                    break  # more words on the left only make it wider
                if best[k - 1][i] == inf:
                    continue
                c = best[k - 1][i] + cost(i, j, k)
                if c < best[k][j] - 1e-12:
                    best[k][j], back[k][j] = c, i
    if best[n][m] == inf:
        return None
    cuts = [m]
    for k in range(n, 0, -1):
        cuts.append(back[k][cuts[-1]])
    cuts.reverse()
    return [(para, spans[a][0], spans[b - 1][1]) for a, b in pairwise(cuts)]


def _break_ranges(line_width, m: int, n: int, limit: int) -> tuple[list[int], list[int]]:
    """For each k, the range [lo[k], hi[k]] where the k-th break of any n-line wrap within `limit` lies.

    First fit breaks each line as late as any wrap can (hi); first fit from the end, as
    early (lo). The chooser only looks between them.
    """
    forward, i = [], 0
    while i < m:
        j = i + 1
        while j < m and line_width(i, j + 1) <= limit:
            j += 1
        forward.append(j)
        i = j
    backward, j = [], m
    while j > 0:
        i = j - 1
        while i > 0 and line_width(i - 1, j) <= limit:
            i -= 1
        backward.append(i)
        j = i
    hi = [0] + [min(forward[k - 1] if k - 1 < len(forward) else m, m - (n - k)) for k in range(1, n + 1)]
    lo = [0] + [max(backward[n - k - 1] if n - k - 1 < len(backward) else 0, k) for k in range(1, n)] + [m]
    return lo, hi


def _bounds(line: LineRef, starts: dict[int, int], ends: dict[int, int]) -> tuple[int, int]:
    """The words [i, j) a line of whole words spans."""
    _, a, b = line
    return starts[a], ends[b] + 1
