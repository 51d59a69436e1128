"""Running a case: the real `reel` in a process of its own (forked from the zygote, see
zygote.py, or a new interpreter), in a folder of its own, and every check the issue
asks of it.

Each case gets a fresh folder holding ``work/`` (its cwd, where its files are made),
``tmp/`` (its ``TMPDIR``) and ``home/`` (its ``REEL_HOME``). The command runs in a
new process group; past the case's time limit, or past `MEMORY_LIMIT` for the whole
tree, the group is killed. Then:

- an error case exits 2 and prints on stderr one line per error (a deck's every
  validation error, at most `MAX_ERROR_LINES`), each ``reel: error: …`` of at most
  `MAX_LINE` characters; a valid case exits 0 and leaves exactly its outputs,
  decoded (frames and size) or opened;
- nothing says "Traceback" or "internal error", nor quotes what the case forbids;
- nothing new is left in ``work/`` (beyond a valid case's outputs) or ``tmp/``,
  nothing there was removed or rewritten, and no process of the group lives on.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from .case import REPO, Case, Folder, Picture, Video
from .zygote import Forked, Zygote

MEMORY_LIMIT = 3 * 1024**3  # bytes of RSS for a case's whole process tree
MAX_LINE = 1000  # characters in an error's one line
MAX_ERROR_LINES = 51  # a deck's errors that reel lists (50), and the line counting the rest
OUTPUT_SHOWN = 300  # characters of a result's output kept for the report
LINGER = 3.0  # seconds a case's processes may take to go after it exits
# On a machine busy with other work, REEL_HOSTILE_TIME_SCALE=3 gives every case three
# times its bound; the bound itself is for an otherwise idle two-core machine.
TIME_SCALE = float(os.environ.get("REEL_HOSTILE_TIME_SCALE", "1"))


@dataclass
class Result:
    case: Case
    seconds: float
    returncode: int | None
    stdout: str
    stderr: str
    problems: list[str] = field(default_factory=list)
    cpu: float = 0.0  # CPU seconds of the process tree (what it waited for)

    @property
    def passed(self) -> bool:
        return not self.problems

    def line(self) -> str:
        """The case, its exit, what went wrong and what it printed, on one line."""
        said = " ".join((self.stderr or self.stdout).split())
        if len(said) > OUTPUT_SHOWN:
            said = said[:OUTPUT_SHOWN] + f"… ({len(said)} chars)"
        status = "PASS" if self.passed else "FAIL"
        problems = "; ".join(self.problems)
        return f"{status} {self.case.id} [{self.seconds:.1f} s, cpu {self.cpu:.1f} s, exit {self.returncode}] {problems} | {said}"


def command() -> list[str]:
    """How the corpus runs `reel`: this interpreter, the working tree's engine."""
    return [sys.executable, "-m", "engine.cli"]


def environment(root: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("REEL_") and key not in ("MAX_CONCURRENT_VIDEOS", "CACHE_SIZE_GB", "QUALITY_PRESET")
    }
    env.update(
        TMPDIR=str(root / "tmp"),
        REEL_HOME=str(root / "home"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


_LIVE: set[int] = set()  # process groups of the cases running now


def run_case(case: Case, base: Path | None = None, zygote: Zygote | None = None) -> Result:
    """One case in a folder of its own: forked by `zygote` if given, else a new interpreter."""
    root = Path(tempfile.mkdtemp(prefix="hostile-", dir=base))
    try:
        return _run_in(case, root, zygote)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run_in(case: Case, root: Path, zygote: Zygote | None) -> Result:
    work, tmp = root / "work", root / "tmp"
    for folder in (work, tmp, root / "home"):
        folder.mkdir()
    try:
        args = list(case.setup(Folder(work)))
    except Exception as exc:  # noqa: BLE001 - a broken case is reported as one, not raised
        return Result(case, 0.0, None, "", "", [f"setup failed: {type(exc).__name__}: {exc}"])
    before = {**snapshot(work), **snapshot(tmp)}

    start = time.monotonic()
    process = _start(case, args, root, zygote)
    _LIVE.add(process.pid)
    try:
        problems, returncode, cpu = _watch(process, case.timeout * TIME_SCALE)
    finally:
        _LIVE.discard(process.pid)
    seconds = time.monotonic() - start
    problems += _survivors(process.pid)
    stdout = (root / "stdout").read_bytes().decode("utf-8", "replace")
    stderr = (root / "stderr").read_bytes().decode("utf-8", "replace")
    result = Result(case, seconds, returncode, stdout, stderr, problems, cpu)
    if not problems:  # a killed run's output and files say nothing more
        result.problems += _check_exit(case, result)
        result.problems += _check_text(case, stdout + stderr)
        result.problems += _check_files(case, work, before, {**snapshot(work), **snapshot(tmp)}, result.returncode)
    return result


def _start(case: Case, args: list[str], root: Path, zygote: Zygote | None) -> Forked | Fresh:
    """The case's `reel`, forked by the zygote, or a new interpreter where there is none
    or the case asks for one."""
    if zygote is not None and not case.fresh:
        return zygote.start(args, str(root / "work"), environment(root), str(root / "stdout"), str(root / "stderr"))
    with open(root / "stdout", "wb") as out, open(root / "stderr", "wb") as err:
        process = subprocess.Popen(
            command() + args,
            cwd=root / "work",
            env=environment(root),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    return Fresh(process)


class Fresh:
    """A case's `reel` in a new interpreter, a child of this process leading its own group."""

    def __init__(self, process: subprocess.Popen) -> None:
        self._process = process
        self.pid = process.pid

    def poll(self) -> tuple[int, float] | None:
        """(exit code, CPU seconds of it and the children it waited for) once it has ended."""
        pid, status, usage = os.wait4(self.pid, os.WNOHANG)
        if not pid:
            return None
        self._process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        return self._process.returncode, usage.ru_utime + usage.ru_stime


def _watch(process: Forked | Fresh, timeout: float) -> tuple[list[str], int, float]:
    """Wait for `process`; kill its group past `timeout` or `MEMORY_LIMIT`. Returns the
    problems, its exit code, and the CPU seconds it and the children it waited for used."""
    deadline = time.monotonic() + timeout
    problems: list[str] = []
    while True:
        ended = process.poll()
        if ended is not None:
            return problems, *ended
        if not problems:
            if time.monotonic() > deadline:
                problems.append(f"did not finish within {timeout:g} s (killed)")
            elif (rss := _tree_rss(process.pid)) > MEMORY_LIMIT:
                problems.append(f"used {rss / 1024**3:.1f} GB of memory (killed)")
            if problems:
                _kill_group(process.pid)
        time.sleep(0.05)


def _tree_rss(pid: int) -> int:
    try:
        parent = psutil.Process(pid)
        total = parent.memory_info().rss
        for child in parent.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total
    except psutil.Error:
        return 0


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (psutil.Error, OSError):
            pass
    return members


def _survivors(pgid: int) -> list[str]:
    """Processes of the case's group still alive `LINGER` s after it ended (then killed)."""
    deadline = time.monotonic() + LINGER
    while True:
        members = _group_members(pgid)
        if not members:
            return []
        if time.monotonic() > deadline:
            names = ", ".join(sorted({_name(p) for p in members}))
            _kill_group(pgid)
            return [f"left {len(members)} process(es) running ({names})"]
        time.sleep(0.1)


def _name(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline()[1:3]) or process.name()
    except psutil.Error:
        return "?"


def _check_exit(case: Case, result: Result) -> list[str]:
    code = result.returncode
    if (
        case.expect == "ok"
        and code != 0
        or case.expect == "error"
        and code != 2
        or case.expect == "either"
        and code not in (0, 2)
    ):
        wanted = {"ok": "0", "error": "2", "either": "0 or 2"}[case.expect]
        return [f"exit {code}, expected {wanted}"]
    if code == 2:
        lines = result.stderr.splitlines()
        if not 1 <= len(lines) <= MAX_ERROR_LINES or not all(line.startswith("reel: error: ") for line in lines):
            return [f"stderr has {len(lines)} lines, expected 1 to {MAX_ERROR_LINES} 'reel: error: ' lines"]
        longest = max(len(line) for line in lines)
        if longest > MAX_LINE:
            return [f"error line of {longest} characters (at most {MAX_LINE})"]
    return []


def _check_text(case: Case, text: str) -> list[str]:
    problems = [f"output says {word!r}" for word in ("Traceback", "internal error") if word in text]
    problems += [f"output quotes {word!r}" for word in case.forbid if word in text]
    return problems


# ---------------------------------------------------------------------------------
# Files


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under `folder` (not following links, opening nothing): kind, and a
    regular file's size and mtime."""
    entries: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            key = os.path.relpath(path, folder.parent)  # "work/…" or "tmp/…"
            if os.path.isfile(path) and not os.path.islink(path):
                entries[key] = ("file", info.st_size, info.st_mtime_ns)
            else:
                entries[key] = (_kind(info.st_mode),)
    return entries


def _kind(mode: int) -> str:
    import stat

    for test, kind in (
        (stat.S_ISDIR, "dir"),
        (stat.S_ISLNK, "link"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return kind
    return "special"


def _check_files(case: Case, work: Path, before: dict, after: dict, code: int | None) -> list[str]:
    problems = []
    outputs = {f"work/{_path(o)}" for o in case.outputs} if code == 0 else set()
    expected = set(outputs)
    for output in outputs:  # and the folders they were written into
        parent = os.path.dirname(output)
        while parent not in ("work", ""):
            if parent not in before:
                expected.add(parent)
            parent = os.path.dirname(parent)
    new = set(after) - set(before) - expected
    # An output folder made and left empty holds no file; anything new in tmp/ is litter.
    holding = {os.path.dirname(p) for p in new if after[p][0] != "dir"}
    for p in list(holding):
        while p not in ("work", "tmp", ""):
            p = os.path.dirname(p)
            holding.add(p)
    new = sorted(p for p in new if after[p][0] != "dir" or p in holding or p.startswith("tmp/"))
    if new:
        problems.append(
            "left " + ", ".join(_short(p) for p in new[:5]) + (f" (+{len(new) - 5})" if len(new) > 5 else "")
        )
    gone = sorted(set(before) - set(after))
    if gone:
        problems.append("removed " + ", ".join(_short(p) for p in gone[:5]))
    changed = sorted(p for p in set(before) & set(after) - outputs if before[p] != after[p] and before[p][0] == "file")
    if changed:
        problems.append("rewrote " + ", ".join(_short(p) for p in changed[:5]))
    for output in case.outputs if code == 0 else ():
        problem = _check_output(work / _path(output), output)
        if problem:
            problems.append(problem)
    return problems


def _path(output: Video | Picture | str) -> str:
    return output if isinstance(output, str) else output.path


def _short(path: str) -> str:
    return path if len(path) < 80 else path[:40] + "…" + path[-30:]


def _check_output(path: Path, output: Video | Picture | str) -> str | None:
    name = _short(str(path.name))
    if not path.is_file():
        return f"no output {name}"
    if isinstance(output, Video):
        import av

        try:
            with av.open(str(path)) as container:
                frames = [frame for frame in container.decode(video=0)]
        except Exception as exc:  # noqa: BLE001
            return f"{name} does not decode: {exc}"
        size = (frames[0].width, frames[0].height) if frames else None
        if len(frames) != output.frames or size != output.size:
            return f"{name}: {len(frames)} frames of {size}, expected {output.frames} of {output.size}"
    elif isinstance(output, Picture):
        from PIL import Image

        try:
            with Image.open(path) as image:
                image.load()
                size = image.size
        except Exception as exc:  # noqa: BLE001
            return f"{name} does not open: {exc}"
        if size != output.size:
            return f"{name}: {size}, expected {output.size}"
    return None


# ---------------------------------------------------------------------------------
# Many cases


def run_all(
    cases: Iterable[Case],
    jobs: int | None = None,
    on_result: Callable[[Result], None] | None = None,
    base: Path | None = None,
) -> list[Result]:
    """Every case, `jobs` at a time (default: the CPU count), in the order given.

    The cases are forked from one zygote (zygote.py) unless REEL_HOSTILE_FRESH=1 asks
    for a new interpreter per case, as a user's `reel` is; cases marked `fresh` always
    get one.
    """
    cases = list(cases)
    jobs = jobs or int(os.environ.get("REEL_HOSTILE_JOBS", "0")) or os.cpu_count() or 2
    # The slowest first, so the tail is short: renders and known time limits.
    order = sorted(range(len(cases)), key=lambda i: (cases[i].expect == "error", -cases[i].timeout))
    results: list[Result | None] = [None] * len(cases)

    fresh = os.environ.get("REEL_HOSTILE_FRESH") == "1" or all(case.fresh for case in cases)
    zygote = None if fresh else Zygote(environment)

    def one(index: int) -> None:
        result = run_case(cases[index], base, zygote)
        results[index] = result
        if on_result:
            on_result(result)

    pool = ThreadPoolExecutor(jobs)
    try:
        list(pool.map(one, order))
    except BaseException:  # Ctrl-C: stop what runs, start nothing more
        pool.shutdown(wait=False, cancel_futures=True)
        for pgid in list(_LIVE):
            _kill_group(pgid)
        raise
    finally:
        if zygote is not None:
            zygote.close()
    pool.shutdown()
    return [r for r in results if r is not None]
