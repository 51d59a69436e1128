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
- in a paragraph that mixes directions, a break inside brackets is avoided where the
  line count allows: each line is reordered on its own, so a split pair would show
  its halves mirrored;
- ragged text otherwise keeps first fit's breaks (each line as full as it can be,
  none much shorter than the width), so ordinary paragraphs do not move;
- balanced text (titles, captions: CSS ``text-wrap: balance``) makes its lines of
  similar length, phrases kept whole where that costs little.

Nothing here depends on direction: lines are spans of the logical text, so
right-to-left paragraphs are broken and balanced the same way.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from itertools import pairwise

from .fallback import Para, clusters, extends_cluster
from .runs import estimated_advances, shape_line
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
#: A break inside brackets, in a paragraph mixing directions: each line is reordered on
#: its own (UAX #9 L1-L4), so a pair split across two lines shows its halves mirrored,
#: "(chickpea" over "560 (salad".
_SPLIT_PAIR = 3.0
_OPENERS, _PAIR_CLOSERS = "([{", ")]}"


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


#: A span estimated at more than this many times the width is first measured only that far.
_FAR = 2.0
#: ...when it has more characters than this (a short one is measured whole at once).
_FAR_CHARS = 64


def _fits(para: Para, start: int, end: int, size: int, width: int) -> bool:
    """Whether characters [start, end) fit `width` at `size`.

    A span far wider than the width by the estimate (a word of thousands of letters) is
    first measured only to where the estimate reaches twice the width, at a boundary
    between two plain characters: when that much does not fit, the whole does not either.
    """
    estimate = estimated_advances(para)
    far = estimate[start] + _FAR * width / size
    if end - start > _FAR_CHARS and estimate[end] > far:
        x = _plain_boundary(para.text, bisect_right(estimate, far, start + 1, end), end)
        if x is not None and _width(para, start, x, size) > width:
            return False
    return _width(para, start, end, size) <= width


def _fits_word(para: Para, start: int, spans: Sequence[tuple[int, int]], size: int, width: int, k: int) -> bool:
    """Whether the line from `start` to the end of word `k` fits (`_fits`)."""
    return _fits(para, start, spans[k][1], size, width)


def _fits_cluster(para: Para, start: int, ends: Sequence[int], size: int, width: int, q: int) -> bool:
    """Whether the piece from `start` to the end of cluster `q` fits (`_fits`)."""
    return _fits(para, start, ends[q], size, width)


def _plain_boundary(text: str, at: int, end: int) -> int | None:
    """The first offset from `at` (before `end`, within a few characters) between two plain
    characters: none that a mark, joiner, selector or flag letter binds to its neighbour."""
    for x in range(max(1, at), min(end, at + 16)):
        before, after = ord(text[x - 1]), ord(text[x])
        if before < 0x300 and after < 0x300:
            return x
        if not (
            extends_cluster(after) or before == 0x200D or 0x1F1E6 <= before <= 0x1F1FF or 0x1F1E6 <= after <= 0x1F1FF
        ):
            return x
    return None


@lru_cache(maxsize=256)
def _spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(words(text))


def wrap(
    paras: Sequence[Para], size: int, width: int, break_words: bool, max_lines: int | None = None
) -> list[LineRef] | None:
    """First-fit word wrap; None when a word is wider than a line and may not be broken.

    Each line takes as many words as fit. Where that is, is looked for from an estimate
    (`engine.text.runs.estimated_advances`) and settled by measuring: the longest line
    that fits and the one a word longer that does not, so a line costs a few measures
    however many words it has (a line's width grows with every word it takes).
    With `max_lines`, wrapping stops as soon as there are more lines than that: the
    list then ends after line ``max_lines + 1``, and the text is not all in it.
    """
    lines: list[LineRef] = []
    for para in paras:
        spans = _spans(para.text)
        if not spans:
            lines.append((para, 0, 0))
        elif not _wrap_para(para, spans, size, width, break_words, lines, max_lines):
            return None
        if max_lines is not None and len(lines) > max_lines:
            del lines[max_lines + 1 :]
            break
    return lines


def _wrap_para(
    para: Para,
    spans: Sequence[tuple[int, int]],
    size: int,
    width: int,
    break_words: bool,
    lines: list[LineRef],
    max_lines: int | None,
) -> bool:
    """Append first fit's lines of `para` to `lines`; False when a word may not be broken."""
    estimate = estimated_advances(para)
    ends_at = [estimate[e] for _, e in spans]  # estimate up to the end of each word
    m = len(spans)
    start: int | None = None
    end = 0
    i = 0
    while i < m:
        a = spans[i][0] if start is None else start
        # The first word k at or after i that no longer fits on a line from `a`.
        room = estimate[a] + width / size
        guess = bisect_right(ends_at, room, i, m)
        k = _first_failing(partial(_fits_word, para, a, spans, size, width), i, m, guess)
        if k > i:
            start, end, i = a, spans[k - 1][1], k
            full = k < m
        elif start is not None:
            full = True
        else:  # a word wider than a line on its own: its last piece starts a line
            if not break_words:
                return False
            limit = None if max_lines is None else max_lines + 1 - len(lines)
            pieces = _break_word(para, spans[i][0], spans[i][1], size, width, limit)
            lines.extend((para, x, y) for x, y in pieces[:-1])
            start, end = pieces[-1]
            i, full = i + 1, False
        if full:
            lines.append((para, start, end))
            start = None
        if max_lines is not None and len(lines) > max_lines:
            return True
    lines.append((para, start or 0, end))
    return True


def _first_failing(fits: Callable[[int], bool], lo: int, hi: int, guess: int) -> int:
    """The first k in [lo, hi) with ``fits(k)`` false (hi if none), for `fits` true up to some k and false after.

    Looks first at `guess` and the one after it, then gallops away from it: two calls
    when the guess is right, a few more the further it is off.
    """
    if lo >= hi:
        return hi
    g = min(max(guess, lo), hi - 1)
    if fits(g):
        left, step = g + 1, 1  # fits up to left - 1
        while left < hi:
            probe = min(hi - 1, left + step - 1)
            if fits(probe):
                left, step = probe + 1, step * 2
            else:
                right = probe
                break
        else:
            return hi
    else:
        right, step = g, 1  # fails from right on
        left = lo
        while right > lo:
            probe = max(lo, right - step)
            if fits(probe):
                left = probe + 1
                break
            right, step = probe, step * 2
        if right == lo:
            return lo
    while left < right:  # fits below left, fails at right
        mid = (left + right) // 2
        if fits(mid):
            left = mid + 1
        else:
            right = mid
    return left


@lru_cache(maxsize=64)
def _cluster_ends(word: str) -> tuple[int, ...]:
    """Where each cluster of `word` ends (a long word is broken again at each size tried)."""
    return tuple(e for _, e in clusters(word))


def _break_word(
    para: Para, start: int, end: int, size: int, width: int, max_pieces: int | None = None
) -> list[tuple[int, int]]:
    """Split a word wider than a line (between clusters), after a hyphen or slash where one is near.

    Each piece is the longest run of clusters that fits (at least one), cut back to a
    hyphen or slash in its last two thirds; the rest of the word goes on. With
    `max_pieces`, stops after that many pieces (the last one is then not the word's end).
    """
    text = para.text
    estimate = estimated_advances(para)
    cluster_ends = [start + ce for ce in _cluster_ends(text[start:end])]
    ends_at = [estimate[e] for e in cluster_ends]
    n = len(cluster_ends)
    pieces: list[tuple[int, int]] = []
    a = start
    q = 1  # the piece from `a` holds clusters up to q - 1 whatever their width
    while True:
        room = estimate[a] + width / size
        guess = bisect_right(ends_at, room, q, n)
        q = _first_failing(partial(_fits_cluster, para, a, cluster_ends, size, width), q, n, guess)
        if q == n or (max_pieces is not None and len(pieces) + 1 >= max_pieces):
            pieces.append((a, cluster_ends[q - 1]))
            return pieces
        current = text[a : cluster_ends[q - 1]]
        cut = max(current.rfind("-"), current.rfind("/")) + 1
        if cut < len(current) // 3:  # no break point in the last two thirds
            cut = len(current)
        pieces.append((a, a + cut))
        a += cut
        q += 1  # the cluster that did not fit starts the next piece, whatever its width


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
    if len({level & 1 for level in para.levels}) > 1:  # both directions in one paragraph
        for k, pair in enumerate(_inside_brackets(text, spans)):
            ending[k] += _SPLIT_PAIR if pair else 0.0

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


def _inside_brackets(text: str, spans: Sequence[tuple[int, int]]) -> list[bool]:
    """Per word, whether a line ending after it would split a bracket pair."""
    depth, inside, at = 0, [], 0
    for _, end in spans:
        for char in text[at:end]:
            if char in _OPENERS:
                depth += 1
            elif char in _PAIR_CLOSERS and depth:
                depth -= 1
        inside.append(depth > 0)
        at = end
    return inside


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
