"""A zygote: one Python that has imported `engine` once and forks a fresh `reel` per case.

Starting an interpreter and importing `engine` (numpy, Pillow, the spec models…) costs
about 0.8 CPU s, most of what a hostile case costs. The zygote pays it once; each case
is a child forked from it that then does what ``python -m engine.cli ARGS`` does after
its imports, with the case's own everything:

- a new session and process group (``start_new_session``), so a time-out kills the case
  and whatever it started;
- its cwd (also ``sys.path[0]``, as ``-m`` puts it there), its environment (``TMPDIR``
  re-read), stdin from ``/dev/null``, stdout and stderr into the case's files;
- ``engine/cli.py`` run as ``__main__`` by `runpy` with ``sys.argv`` as ``-m`` sets it,
  so `multiprocessing`'s spawned workers start the way they do under the real command;
- the exit an interpreter makes: `SystemExit`'s code, a traceback and 1 for an uncaught
  exception, non-daemon threads joined, `atexit` handlers run, stdio flushed.

The zygote imports only `engine` (what ``python -m engine.cli`` imports first) and PyAV.
It makes no OpenGL/EGL context, starts no thread and touches no GPU before forking
(a forked child of a process holding a GL context hangs creating its own; see
/work/shared/notes/service.md §5). The children it forks make their own contexts.

The harness (run.py) binds a Unix socket and hands it to the zygote as an inherited
descriptor, then waits for the zygote's "ready" (its imports count against no case's
time limit); each case connects, sends its request, and reads back the child's pid
(once the child is in its own session) and then its exit code and CPU seconds. The
zygote exits when its stdin closes.
"""

from __future__ import annotations

import atexit
import os
import pickle
import runpy
import select
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


def serve(listener: socket.socket) -> None:
    """Fork a child per request on `listener` until stdin closes; report each exit."""
    if threading.active_count() != 1:
        raise RuntimeError("the zygote must not fork with threads running")
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    running: dict[int, socket.socket] = {}
    print("ready", flush=True)
    while True:
        for key, _ in selector.select(timeout=0.02):
            if key.fileobj is sys.stdin:
                return
            connection, _ = listener.accept()
            request = receive(connection)
            pid = _fork(request, selector, [listener, connection, *running.values()])
            send(connection, ("pid", pid))
            running[pid] = connection
        while running:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not pid:
                break
            connection = running.pop(pid)  # every child of the zygote is a case's
            try:
                send(connection, ("exit", os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime))
            except OSError:
                pass  # the harness stopped listening (it was interrupted)
            connection.close()


def send(sock: socket.socket, message: object) -> None:
    """One message: its length, then its pickle."""
    data = pickle.dumps(message)
    sock.sendall(struct.pack(">I", len(data)) + data)


def receive(sock: socket.socket) -> Any:
    """The next message `send` sent (blocking); EOFError if the other end has gone."""
    (size,) = struct.unpack(">I", _exactly(sock, 4))
    return pickle.loads(_exactly(sock, size))


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("the zygote's connection closed")
        data += chunk
    return data


def _fork(request: dict[str, Any], selector: selectors.BaseSelector, sockets: list[socket.socket]) -> int:
    """Fork the case's child; return its pid once it leads its own session."""
    sys.stdout.flush()
    sys.stderr.flush()
    ready, started = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.close(started)
            os.close(ready)
            selector.close()
            for sock in sockets:
                sock.close()
            code = _run(request)
        except BaseException:  # noqa: BLE001 - a child never returns into the zygote's loop
            traceback.print_exc()
            code = 1
        os._exit(code)
    os.close(started)
    os.read(ready, 1)  # EOF once the child has called setsid (or died)
    os.close(ready)
    return pid


def _run(request: dict[str, Any]) -> int:
    """In the child: become ``python -m engine.cli ARGS`` for the case, and exit like it."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    stdin = os.open(os.devnull, os.O_RDONLY)
    stdout = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    stderr = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, target)
        os.close(fd)
    sys.path[0] = os.getcwd()
    sys.argv = ["-m", *request["args"]]
    try:
        runpy.run_module("engine.cli", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except KeyboardInterrupt:  # the interpreter prints it and dies of SIGINT
        traceback.print_exc()
        _shutdown()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 1
    except BaseException:  # noqa: BLE001 - what the interpreter does with an uncaught exception
        traceback.print_exc()
        code = 1
    _shutdown()
    return code


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _shutdown() -> None:
    """What the interpreter does on its way out: join non-daemon threads, run `atexit`, flush."""
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


# ---------------------------------------------------------------------------------
# The harness's end


class Zygote:
    """Starts the zygote in a folder of its own, with the environment `environment(folder)`
    gives (a case's, with the folder's ``tmp/`` and ``home/``), and launches cases through it."""

    def __init__(self, environment: Callable[[Path], dict[str, str]]) -> None:
        self._folder = tempfile.mkdtemp(prefix="hostile-zygote-")
        for name in ("tmp", "home"):
            os.mkdir(os.path.join(self._folder, name))
        self._path = os.path.join(self._folder, "socket")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self._path)
        self._listener.listen(64)
        fd = self._listener.fileno()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.zygote", str(fd)],
            cwd=self._folder,
            env=environment(Path(self._folder)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            pass_fds=(fd,),
        )
        # Wait for its imports, so that they count against no case's time limit.
        if self._process.stdout is None or self._process.stdout.readline() != b"ready\n":
            self.close()
            raise RuntimeError("the hostile corpus's zygote did not start (its error is above)")

    @property
    def folder(self) -> str:
        """Where the zygote runs (its TMPDIR is ``tmp/``, its REEL_HOME ``home/``)."""
        return self._folder

    def start(self, args: list[str], cwd: str, env: dict[str, str], stdout: str, stderr: str) -> Forked:
        """``python -m engine.cli *args`` for a case, forked; stdout and stderr go to those files."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self._path)
        send(sock, {"args": args, "cwd": cwd, "env": env, "stdout": stdout, "stderr": stderr})
        _, pid = receive(sock)
        return Forked(sock, pid)

    def close(self) -> None:
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe:
                pipe.close()  # stdin's end is the zygote's signal to exit
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._listener.close()
        shutil.rmtree(self._folder, ignore_errors=True)


class Forked:
    """A case's child, forked by the zygote: its pid (which leads its process group) and its exit."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self._sock = sock
        self.pid = pid

    def poll(self) -> tuple[int, float] | None:
        """(exit code, CPU seconds) once the child has ended, else None."""
        readable, _, _ = select.select([self._sock], [], [], 0)
        if not readable:
            return None
        _, code, cpu = receive(self._sock)
        self._sock.close()
        return code, cpu


def main() -> None:
    import av  # noqa: F401 - renders import it; once here is enough

    import engine  # noqa: F401 - what `python -m engine.cli` imports before cli.py

    serve(socket.socket(fileno=int(sys.argv[1])))


if __name__ == "__main__":
    main()
