"""The `reel` command: render, still, doctor, platforms, transitions, gallery, schema,
and the service commands: submit, jobs, worker, batch, config, metrics.

User mistakes (a bad deck, a missing file, an encoder that does not exist here) print
one line and exit 2; internal failures exit 1. `--debug` shows tracebacks.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .cli_args import Completions, deck_argument, output_options, positive_int, positive_seconds
from .errors import EngineError
from .version import __version__

log = logging.getLogger("engine")

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1
EXIT_INTERRUPTED = 130


# Ctrl-C, a batch scheduler's SIGTERM, and the SIGHUP of a closed terminal or ssh
# session all unwind the same way: every worker is stopped at once, partial files are
# removed, and the message says what was kept. Exit 130 for each (not 128 + the signal),
# so a script checks one code for "interrupted".
_INTERRUPTS = ("SIGINT", "SIGTERM", "SIGHUP")
_caught: list[str] = []  # the signal that interrupted this run


def _interrupted(signum, frame) -> None:
    if _caught:  # already unwinding: a second signal must not cut the clean-up short
        return
    _caught.append(signal.Signals(signum).name)
    raise KeyboardInterrupt


def _catch_interrupts() -> dict:
    """Route SIGINT, SIGTERM and SIGHUP to `_interrupted`; the handlers they had (to restore)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    _caught.clear()
    previous = {}
    for name in _INTERRUPTS:
        if hasattr(signal, name):
            signum = getattr(signal, name)
            previous[signum] = signal.signal(signum, _interrupted)
    return previous


def _interrupted_message(exc: KeyboardInterrupt) -> str:
    from .jobs.executor import RenderInterrupted, describe_outcome

    how = f"interrupted ({_caught[0]})" if _caught else "interrupted"
    if isinstance(exc, RenderInterrupted):
        return f"reel: {how}; {describe_outcome(exc.kept, exc.removed)}"
    return f"reel: {how}; no partial files were left"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    previous = _catch_interrupts()
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="reel: %(levelname)s: %(message)s",
    )
    try:
        return args.run(args) or 0
    except KeyboardInterrupt as exc:
        print(_interrupted_message(exc), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `reel … | head` closed the reading end: nothing is wrong with the work, and
        # Python's own flush at exit must not fail again on the same pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INTERNAL_ERROR
    except EngineError as exc:
        if args.debug:
            raise
        for line in error_lines(exc):
            print(f"reel: error: {line}", file=sys.stderr)
        return EXIT_USER_ERROR if exc.user_error else EXIT_INTERNAL_ERROR
    except Exception as exc:  # a bug: say so plainly, traceback only on request
        if args.debug:
            raise
        print(
            f"reel: internal error: {type(exc).__name__}: {one_line(str(exc))} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL_ERROR
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake said like every other error: one line and a hint.

    Subcommands' parsers (service_cli's too) are made by `add_parser`, which uses the
    class of the parser it belongs to, so all of them answer this way.
    """

    def error(self, message: str):
        self.exit(EXIT_USER_ERROR, f"reel: error: {one_line(message)} (see {self.prog} --help)\n")


# Line breaks and other control characters in a message (a file name may hold any)
# are shown escaped, so an error is one line whatever it names.
_ESCAPES = {c: repr(chr(c))[1:-1] for c in [*range(32), 127, 0x85, 0x2028, 0x2029]}
_LONGEST = 1000


def one_line(message: str) -> str:
    """`message` as one line of at most 1,000 characters, control characters escaped."""
    line = message.translate(_ESCAPES)
    return line if len(line) <= _LONGEST else line[: _LONGEST - 1] + "…"


#: A deck's errors listed one a line; past these, one line counts the rest.
MAX_ERRORS_SHOWN = 50


def error_lines(exc: EngineError) -> list[str]:
    """What `reel` prints for `exc`: every error of a deck (up to `MAX_ERRORS_SHOWN`),
    each on its own line with its path; else the error's one line."""
    from .errors import SpecError

    if not isinstance(exc, SpecError) or len(exc.errors) < 2:
        return [one_line(str(exc))]
    shown = exc.errors[:MAX_ERRORS_SHOWN]
    lines = [one_line(f"{e['path']}: {e['message']}" if e["path"] else e["message"]) for e in shown]
    if len(exc.errors) > len(shown):
        lines.append(f"… and {len(exc.errors) - len(shown)} more errors")
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reel", description="Render slide decks into social videos.")
    parser.add_argument("--version", action="version", version=f"reel {__version__}")
    parser.add_argument("--debug", action="store_true", help="log details and show tracebacks")
    parser.set_defaults(run=lambda args: parser.print_help())
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    render = commands.add_parser("render", help="render a deck for one or more platforms")
    render.add_argument("deck", help="deck file (.json, .yaml), or - to read it from standard input")
    output_options(render, many=True)
    render.add_argument(
        "-o",
        "--out",
        default=".",
        help="output folder, or a video path (.mp4; .webm, .gif with --format) for one platform (default: .)",
    )
    render.add_argument(
        "--format",
        choices=("mp4", "webm", "gif"),
        default="mp4",
        help="mp4 (default); webm: VP9 or AV1 with Opus; gif: a looping preview (≤ 15 fps, ≤ 640 px, no sound)",
    )
    render.add_argument("--encoder", default="auto", help="auto (default) or an encoder name (see `reel doctor`)")
    render.add_argument("--codec", help="h264 (default), hevc (h265) or av1; a named --encoder implies its own")
    render.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        default=None,
        help="outputs rendered at once (default: from cores and memory)",
    )
    render.add_argument(
        "--timeout",
        type=positive_seconds,
        default=None,
        metavar="SECONDS",
        help="stop the render past this many seconds, leaving no partial file (default: REEL_RENDER_TIMEOUT, else none)",
    )
    render.add_argument("--report", metavar="JSON", help="write the render reports to this file")
    render.add_argument(
        "--thumbnail", action="store_true", help="also write each video's cover frame as a PNG beside it"
    )
    render.add_argument(
        "--chunks",
        type=_chunk_count,
        default=None,
        metavar="N|auto",
        help="cut each video into N chunks rendered side by side and joined without re-encoding "
        "(auto: one per worker, at least 10 s each)",
    )
    render.add_argument(
        "--no-skip-holds",
        dest="skip_holds",
        action="store_false",
        help="encode every frame of a hold instead of writing its repeats as skip frames (x264)",
    )
    render.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    progress_option(render)
    render.set_defaults(run=_render)

    still = commands.add_parser("still", help="write the frame at one moment as a PNG")
    still.add_argument("deck", help="deck file (.json, .yaml), or - to read it from standard input")
    still.add_argument("--at", type=float, default=0.0, metavar="SECONDS", help="time of the frame (default 0)")
    output_options(still, many=False)
    still.add_argument("-o", "--out", default="frame.png", help="PNG path (default: frame.png)")
    still.set_defaults(run=_still)

    preview = commands.add_parser("preview", help="play a deck in a window, reloading when its files change")
    preview.add_argument("deck", help="deck file (.json, .yaml)")
    output_options(preview, many=False)
    preview.set_defaults(run=_preview)

    doctor = commands.add_parser("doctor", help="what this machine can use: GL renderer, encoders")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.add_argument(
        "--clean",
        metavar="DIR",
        help="only remove the hidden .part files that killed renders left in DIR (not its subfolders), and say which",
    )
    doctor.set_defaults(run=_doctor)

    platforms = commands.add_parser("platforms", help="list platform and quality presets")
    platforms.set_defaults(run=_platforms)

    transitions = commands.add_parser("transitions", help="list the built-in transitions, their parameters and easings")
    transitions.add_argument(
        "name", nargs="?", metavar="NAME", choices=Completions("transitions"), help="only this transition"
    )
    transitions.add_argument("--json", action="store_true", help="machine-readable output")
    transitions.set_defaults(run=_transitions)

    gallery = commands.add_parser("gallery", help="render every built-in transition, as a video and/or a contact sheet")
    gallery.add_argument("-o", "--out", help="MP4 path for the gallery video")
    gallery.add_argument("--sheet", metavar="PNG", help="also write a contact sheet of mid-transition frames")
    output_options(gallery, many=False)
    progress_option(gallery)
    gallery.set_defaults(run=_gallery)

    validate = commands.add_parser("validate", help="check a deck: every error, each with its path (exit 0 or 2)")
    validate.add_argument("deck", help="deck file (.json, .yaml), or - for standard input")
    validate.set_defaults(run=_validate)

    schema = commands.add_parser("schema", help="print the deck JSON Schema")
    schema.set_defaults(run=_schema)

    from . import serve_cli, service_cli

    service_cli.add_commands(commands)
    serve_cli.add_commands(commands)

    completion = commands.add_parser(
        "completion", help="print a shell completion script: eval it, or save it where your shell loads completions"
    )
    completion.add_argument("shell", choices=("bash", "zsh", "fish"))
    completion.set_defaults(run=lambda args: _completion(parser, args.shell))
    return parser


def _completion(parser: argparse.ArgumentParser, shell: str) -> int:
    """The completion script for `shell`, made by shtab from the parser itself: commands,
    options, and the names in each `Completions` (platforms, transitions)."""
    import shtab

    print(shtab.complete(parser, shell=shell))
    return 0


def default_quality(args) -> str:
    """--quality if given, else the QUALITY_PRESET setting (environment or reel.toml)."""
    if args.quality:
        return args.quality
    from .settings import load_settings

    return load_settings().quality_preset


def _chunk_count(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number of chunks (1 or more), or auto")
    return count


def _render(args) -> int:
    with deck_argument(args.deck) as (deck_file, base_dir):
        return _render_deck(args, deck_file, base_dir)


def _render_deck(args, deck_file: str, base_dir: Path | None) -> int:
    from .api import deck_name, output_path
    from .cover import thumbnail_path
    from .encode import codec_for
    from .jobs import render_many
    from .output import check_target, refuse_duplicate_targets
    from .platforms import PLATFORMS, resolve_output, resolve_platform
    from .report import check_report_path, write_reports
    from .spec import load_deck

    platforms = args.platforms or ["youtube"]
    if "all" in platforms:
        platforms = list(PLATFORMS)
    codec = codec_for(args.encoder, args.codec)
    if codec is not None:  # each platform, writing that codec instead of its own
        platforms = [resolve_platform(name, codec) for name in platforms]
    out = Path(args.out)
    if args.format != "mp4" and args.chunks not in (None, 1):
        raise _usage(f"--chunks makes MP4 only; {args.format} is rendered whole")
    if out.suffix.lower() in (".mp4", ".webm", ".gif") and len(platforms) > 1:
        raise _usage(f"{out} is one file, but {len(platforms)} platforms were asked for; give a folder")
    # Everything that can fail without rendering fails now, in milliseconds: the deck,
    # the platforms, each output path (two outputs writing one file), the report's path.
    deck = load_deck(deck_file, base_dir=base_dir)
    quality = default_quality(args)
    outputs = [resolve_output(p, quality) for p in platforms]
    targets = [output_path(out, deck_name(deck), o, args.format) for o in outputs]
    thumbnails = [thumbnail_path(t) for t in targets] if args.thumbnail else []
    refuse_duplicate_targets(
        targets + thumbnails + ([Path(args.report)] if args.report else []),
        [o.label for o in outputs] + [f"{o.label}'s thumbnail" for o in outputs if args.thumbnail] + ["--report"],
    )
    for target in targets + thumbnails:
        check_target(target)
    if args.report:
        check_report_path(args.report)
    replaces = [target.exists() for target in targets]
    bar = progress_display(args.progress, args.quiet)
    reports = render_many(
        deck,
        out,
        platforms,
        quality=quality,
        compositor=args.compositor,
        encoder=args.encoder,
        jobs=args.jobs,
        on_progress=bar,
        thumbnail=args.thumbnail,
        timeout=_timeout(args),
        skip_holds=args.skip_holds,
        chunks=args.chunks,
        format=args.format,
    )
    if bar:
        bar.finish()
    for report, replaced in zip(reports, replaces):
        report.replaced = report.replaced or replaced
    if args.report:
        try:
            write_reports(args.report, {"outputs": [r.to_dict() for r in reports]})
        except EngineError as exc:
            written = ", ".join(Path(r.path).name for r in reports)
            raise type(exc)(f"{exc} (only the report failed: {written} were written)") from exc
    if not args.quiet:
        for report in reports:
            print(report.summary())
    return 0


def _timeout(args) -> float | None:
    """--timeout if given, else REEL_RENDER_TIMEOUT (0: no limit)."""
    if args.timeout is not None:
        return args.timeout
    from .settings import load_settings

    return load_settings().render_timeout_s or None


def _still(args) -> int:
    from PIL import Image

    from .api import render_frame
    from .output import atomic_output, check_target
    from .spec import load_deck

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise _usage(f"{out}: a still is written as PNG; name it .png")
    with deck_argument(args.deck) as (deck_file, base_dir):
        deck = load_deck(deck_file, base_dir=base_dir)
    check_target(out)  # before the frame is made: a path that cannot be written fails now

    # What the frame's layouts gave up (text cut to fit, characters no font has), each
    # naming its slide, is said once on stderr after the frame, whatever the logging
    # setup: taken from the rasterizer's log instead of left to it.
    layout_warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                layout_warnings.append(record.getMessage())
            else:  # --debug details go where they always go
                log.handle(record)

    raster_log = logging.getLogger("engine.raster")
    collect, propagate = Collect(), raster_log.propagate
    raster_log.addHandler(collect)
    raster_log.propagate = False
    try:
        image = render_frame(
            deck, args.at, platform=args.platform, quality=default_quality(args), compositor=args.compositor
        )
    finally:
        raster_log.removeHandler(collect)
        raster_log.propagate = propagate
    with atomic_output(out) as temporary, Image.fromarray(image) as picture:
        picture.save(temporary, format="PNG")
    print(f"{out}: {image.shape[1]}x{image.shape[0]} frame at {args.at:g} s")
    for warning in layout_warnings:
        print(f"reel: warning: {warning}", file=sys.stderr)
    return 0


def _preview(args) -> int:
    from .preview import run_preview

    run_preview(args.deck, platform=args.platform, quality=default_quality(args), compositor=args.compositor)
    return 0


def _doctor(args) -> int:
    from .doctor import clean, diagnose

    if args.clean:
        result = clean(args.clean)
        if args.json:
            print(json.dumps(result, indent=2))
            return 0
        for line in result["lines"]:
            print(line)
        return 0
    facts = diagnose()
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    for section, rows in facts.items():
        print(f"{section}:")
        for name, value in rows.items():
            print(f"  {name:<18} {value}")
    return 0


def _platforms(args) -> int:
    from .platforms import PLATFORMS, QUALITIES

    print(f"{'platform':<20}{'size':>11}{'fps':>5}{'max Mbit/s':>12}  {'safe area (t/r/b/l)':<22}description")
    for p in PLATFORMS.values():
        s = p.safe_area
        safe = f"{s.top:.0%}/{s.right:.0%}/{s.bottom:.0%}/{s.left:.0%}"
        print(f"{p.name:<20}{p.width:>5}x{p.height:<5}{p.fps:>5}{p.max_bitrate / 1e6:>12g}  {safe:<22}{p.description}")
    print("custom: WxH or WxH@fps, even sizes (e.g. 1280x720@24)\n")
    print(f"{'quality':<10}{'scale':>6}{'fps':>6}{'crf':>5}  {'x264 preset':<12}description")
    for q in QUALITIES.values():
        fps = q.fps or (f"≤{q.max_fps}" if q.max_fps else "same")
        print(f"{q.name:<10}{q.scale:>6g}{fps:>6}{q.crf:>5}  {q.preset:<12}{q.description}")
    return 0


def _transitions(args) -> int:
    from .easing import easing_names
    from .transitions import BUILTIN

    chosen = list(BUILTIN.values())
    if args.name is not None:
        if args.name not in BUILTIN:
            import difflib

            close = difflib.get_close_matches(args.name, list(BUILTIN), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise _usage(f"unknown transition {args.name!r}; {hint}`reel transitions` lists them")
        chosen = [BUILTIN[args.name]]
    if args.json:
        listing = {
            "transitions": {
                t.name: {"description": t.description, "params": dict(t.params), "yuv_safe": t.yuv_safe} for t in chosen
            },
            "easings": easing_names() + ["[x1, y1, x2, y2] (cubic-bezier)"],
        }
        print(json.dumps(listing, indent=2))
        return 0
    for t in chosen:
        params = ", ".join(f"{name}={value}" for name, value in t.params.items())
        print(f"{t.name:<16}{t.description}" + (f"  [{params}]" if params else ""))
    print(f"\neasings: {', '.join(easing_names())}, or [x1, y1, x2, y2] for a cubic-bezier")
    print(
        'use: "transition": {"name": "wipeleft", "duration": 0.6, "easing": "ease-in-out", "params": {"softness": 0.1}}'
    )
    return 0


def _gallery(args) -> int:
    from PIL import Image

    from .api import render
    from .gallery import contact_sheet, gallery_deck
    from .output import atomic_output, check_target
    from .platforms import resolve_output

    if not args.out and not args.sheet:
        raise _usage("give -o gallery.mp4, --sheet gallery.png, or both")
    if args.out and Path(args.out).suffix.lower() != ".mp4":
        raise _usage(f"{args.out}: the gallery video is an .mp4")
    if args.sheet and Path(args.sheet).suffix.lower() != ".png":
        raise _usage(f"{args.sheet}: the contact sheet is a .png")
    if args.sheet:
        check_target(Path(args.sheet))  # before the video: both paths fail now if they will
    deck = gallery_deck()
    if args.out:
        bar = progress_display(args.progress, quiet=False)
        report = render(
            deck,
            args.out,
            platform=args.platform,
            quality=default_quality(args),
            compositor=args.compositor,
            on_progress=bar,
        )
        if bar:
            bar.finish()
        print(report.summary())
    if args.sheet:
        sheet = contact_sheet(deck, resolve_output(args.platform, default_quality(args)), compositor=args.compositor)
        # 256 dithered colours: a third of the bytes, and thumbnails lose nothing visible.
        with (
            sheet.quantize(256, dither=Image.Dither.FLOYDSTEINBERG) as small,
            atomic_output(Path(args.sheet)) as temporary,
        ):
            small.save(temporary, format="PNG", optimize=True)
        print(f"{args.sheet}: {sheet.width}x{sheet.height} contact sheet of {len(deck.slides) - 1} transitions")
    return 0


def _validate(args) -> int:
    from .spec import load_deck

    with deck_argument(args.deck) as (deck_file, base_dir):
        deck = load_deck(deck_file, base_dir=base_dir)
    print(f"ok: {len(deck.slides)} slide(s), {deck.total_duration():g} s")
    return 0


def _schema(args) -> int:
    from .spec import deck_json_schema

    print(json.dumps(deck_json_schema(), indent=2))
    return 0


def _usage(message: str) -> EngineError:
    from .errors import SpecError

    return SpecError(message)


def progress_option(parser: argparse.ArgumentParser) -> None:
    """--progress: how a render shows its progress on stderr."""
    parser.add_argument(
        "--progress",
        choices=("auto", "bar", "lines", "json"),
        default="auto",
        help="auto (default): a bar on a terminal, else a line per 10%% (CI, logs); "
        "json: one JSON object a line (output, frames_done, frames_total, fps, eta_s), even with -q",
    )


def progress_display(kind: str, quiet: bool) -> ProgressBar | ProgressLines | None:
    """The progress callback for --progress `kind` (None: show nothing)."""
    if kind == "json":
        return ProgressLines(json_lines=True)
    if quiet:
        return None
    if kind == "bar" or (kind == "auto" and sys.stderr.isatty()):
        return ProgressBar()
    return ProgressLines()


def _rate_and_eta(progress) -> tuple[float, float]:
    """Frames per second so far, and the seconds left at that rate."""
    rate = progress.frames_done / progress.elapsed if progress.elapsed > 0 else 0.0
    left = (progress.frames_total - progress.frames_done) / rate if rate > 0 else 0.0
    return rate, left


class ProgressLines:
    """Progress for a log rather than a terminal, one line at a time on stderr.

    Plain: a line per output each time it passes another 10 %, with fps and the seconds
    left. `json_lines`: one JSON object a line (``output``, ``frames_done``,
    ``frames_total``, ``fps``, ``eta_s``), at most two a second per output and always
    the last, for programs that wrap `reel`. Outputs rendered at once may report from
    several threads: a lock keeps each line whole.
    """

    def __init__(self, json_lines: bool = False) -> None:
        self.json_lines = json_lines
        self._lock = threading.Lock()
        self._shown: dict[str, tuple[int, float]] = {}  # output → (tenths shown, when)

    def __call__(self, progress) -> None:
        done = progress.frames_done >= progress.frames_total
        tenths = int(progress.fraction * 10 + 1e-9)
        now = time.monotonic()
        with self._lock:
            # Lines start at 10 %: a render refused before its first frame says nothing else.
            last_tenths, last_time = self._shown.get(progress.output, (0 if not self.json_lines else -1, float("-inf")))
            if self.json_lines:
                due = done or now - last_time >= 0.5
                if not due or (done and last_tenths == 10):
                    return
            elif tenths <= last_tenths:
                return
            self._shown[progress.output] = (10 if done else tenths, now)
            rate, left = _rate_and_eta(progress)
            if self.json_lines:
                line = json.dumps(
                    {
                        "output": progress.output,
                        "frames_done": progress.frames_done,
                        "frames_total": progress.frames_total,
                        "fps": round(rate, 1),
                        "eta_s": round(left, 1),
                    }
                )
            else:
                line = (
                    f"reel: {progress.output}: {tenths * 10:3d}% {progress.frames_done}/{progress.frames_total} "
                    f"frames, {rate:.0f} fps, {left:.0f} s left"
                )
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def finish(self) -> None:
        pass


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    width = 30

    def __init__(self) -> None:
        self._last = 0.0
        self._output: str | None = None

    def __call__(self, progress) -> None:
        now = time.monotonic()
        if progress.output == self._output and now - self._last < 0.1 and progress.frames_done < progress.frames_total:
            return
        if self._output is not None and progress.output != self._output:
            sys.stderr.write("\n")  # keep the finished output's line
        self._last, self._output = now, progress.output
        filled = int(self.width * progress.fraction)
        rate, left = _rate_and_eta(progress)
        sys.stderr.write(
            f"\r{progress.output:<20} [{'#' * filled}{'.' * (self.width - filled)}] {progress.fraction:4.0%} "
            f"{progress.frames_done}/{progress.frames_total} frames  {rate:5.0f} fps  {left:4.0f} s left "
        )
        sys.stderr.flush()

    def finish(self) -> None:
        sys.stderr.write("\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
