"""Writing folders so that a failure never leaves a half-written one behind, and guarding a run.

* :func:`atomic_directory` / :func:`replace_directory` / :func:`atomic_write_text`: build in a
  temporary sibling, then rename into place — a failure (a full disk, an interrupt) leaves the
  previous content as it was.
* :func:`check_output_dir` says *before any work* when an output folder cannot be written (it is
  a file, or its parent is, or it is read-only).
* :func:`output_lock` gives one run at a time an output folder: a second run into the same folder
  stops at once with a message naming the first (pid, start time). The lock is an OS file lock,
  so a killed run never leaves a stale lock behind.
* :func:`exclusive_output` wraps a function that writes an output folder in both, and
  :func:`hold_interrupts` keeps Ctrl-C / SIGTERM from cutting the final moves of such a run short.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from kompetensprognos.errors import KompetensprognosError

__all__ = [
    "LOCK_FILE",
    "RunInterrupted",
    "atomic_directory",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_dir",
    "exclusive_output",
    "hold_interrupts",
    "output_lock",
    "replace_directory",
    "stop_kernels",
]

LOCK_FILE = ".kompetensprognos.lock"
F = TypeVar("F", bound=Callable[..., Any])


def replace_directory(source: Path, target: Path) -> None:
    """Move a complete folder ``source`` to ``target``, replacing ``target`` if it exists.

    The old ``target`` is removed only after the new one is in place.
    """
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        source.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        source.rename(target)


@contextmanager
def atomic_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling folder of ``target`` that replaces it when the block succeeds.

    On any exception the temporary folder is removed and ``target`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> base = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_directory(base / "out") as tmp:
    ...     _ = (tmp / "a.csv").write_text("x\\n")
    >>> sorted(p.name for p in (base / "out").iterdir())
    ['a.csv']
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        replace_directory(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write a file through a temporary sibling and an atomic rename (parent folders created).

    A failure part-way (a full disk) leaves the previous file as it was, never a truncated one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = atomic_write_bytes(pathlib.Path(tempfile.mkdtemp()) / "a" / "b.bin", b"xy")
    >>> p.read_bytes()
    b'xy'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write a text file atomically (see :func:`atomic_write_bytes`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = atomic_write_text(pathlib.Path(tempfile.mkdtemp()) / "index.html", "<p>hej</p>")
    >>> p.read_text()
    '<p>hej</p>'
    """
    return atomic_write_bytes(path, text.encode(encoding))


def check_output_dir(path: str | os.PathLike[str]) -> Path:
    """Check, before any work, that ``path`` can be (or become) a writable folder.

    Raises
    ------
    KompetensprognosError
        When ``path`` or one of its parents is a file, or the folder cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> base = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_dir(base / "new" / "out") == (base / "new" / "out").absolute()
    True
    >>> _ = (base / "file.txt").write_text("x")
    >>> check_output_dir(base / "file.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kompetensprognos.errors.KompetensprognosError: output folder .../file.txt is a file ...
    """
    path = Path(path).absolute()
    if path.exists() and not path.is_dir():
        raise KompetensprognosError(
            f"output folder {path} is a file — give a folder (--output), or move the file away"
        )
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise KompetensprognosError(
            f"cannot create output folder {path}: {existing} is a file — choose another --output"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise KompetensprognosError(
            f"output folder {path} cannot be written ({existing}: {exc.strerror}) — "
            "choose another --output or fix the folder's permissions; nothing was computed"
        ) from None
    return path


@contextmanager
def output_lock(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive lock on an output folder for the duration of the block.

    The folder is created if needed (and removed again if the block leaves it empty, e.g. when a
    run fails before writing anything). Leftover staging folders of a killed earlier run are
    removed once the lock is held, since no other run can be using them.

    Raises
    ------
    KompetensprognosError
        When another process holds the lock, naming its pid and start time.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with output_lock(out):
    ...     with output_lock(out):  # doctest: +ELLIPSIS
    ...         pass
    Traceback (most recent call last):
    ...
    kompetensprognos.errors.KompetensprognosError: another run is writing to .../out ...
    """
    path = check_output_dir(path)
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    lock_path = path / LOCK_FILE
    fh = open(lock_path, "a+", encoding="utf-8")  # held for the whole block
    try:
        if not _try_lock(fh) or not _same_file(fh, lock_path):
            fh.seek(0)
            holder = fh.read().strip() or "unknown process"
            fh.close()
            raise KompetensprognosError(
                f"another run is writing to {path} ({holder}) — wait for it to finish, or give "
                "this run another --output"
            )
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        _remove_leftovers(path)
        try:
            yield path
        finally:
            fh.close()  # releases the lock
            with contextlib.suppress(OSError):
                lock_path.unlink()
            if created:
                with contextlib.suppress(OSError):
                    path.rmdir()  # only when empty: a run that wrote nothing leaves nothing
    finally:
        if not fh.closed:
            fh.close()


def _same_file(fh: Any, path: Path) -> bool:
    """False when the lock file was removed (by the run releasing it) while this one waited."""
    try:
        return os.fstat(fh.fileno()).st_ino == os.stat(path).st_ino
    except OSError:
        return False


def _try_lock(fh: Any) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise


def _remove_leftovers(path: Path) -> None:
    """Staging folders of a run that was killed (SIGKILL, power cut) before it could clean up."""
    for p in path.iterdir():
        hidden = p.name.startswith(".")
        if p.is_dir() and hidden and (p.name.startswith(".staging-") or p.name.endswith(".old")):
            shutil.rmtree(p, ignore_errors=True)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM arrived while a run's outputs were being moved into place.

    The moves were finished first, so the outputs are complete and new (``completed`` is true).
    """

    completed = True


class _Held:
    """Signals held back during the final moves of a run (main thread only)."""

    def __init__(self) -> None:
        self.armed = False  # inside an exclusive_output call
        self.active = False
        self.received: list[int] = []
        self.previous: dict[int, Any] = {}


_HELD = _Held()
_SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


def hold_interrupts() -> None:
    """From now until the enclosing :func:`exclusive_output` call returns, hold Ctrl-C/SIGTERM.

    Called when a run starts moving its finished outputs into place, so an interrupt cannot leave
    some regions new and the index old. A held signal is raised as :class:`RunInterrupted` when
    the run has finished. Does nothing outside the main thread or outside such a call.
    """
    if _HELD.active or threading.current_thread() is not threading.main_thread():
        return
    if not _HELD.armed:
        return

    def record(signum: int, frame: Any) -> None:
        _HELD.received.append(signum)

    _HELD.active = True
    for s in _SIGNALS:
        _HELD.previous[s] = signal.signal(s, record)


def _release_held() -> bool:
    """Restore the handlers :func:`hold_interrupts` replaced; True when a signal was held."""
    if _HELD.active:
        for s, handler in _HELD.previous.items():
            signal.signal(s, handler)
        _HELD.previous.clear()
        _HELD.active = False
    received = bool(_HELD.received)
    _HELD.received.clear()
    return received


def exclusive_output(param: str = "output") -> Callable[[F], F]:
    """Decorate a function that writes the folder given by its argument ``param``.

    Before the function runs, the folder is checked (:func:`check_output_dir`) and locked
    (:func:`output_lock`); the function may call :func:`hold_interrupts` when it starts its
    final moves.
    """

    def decorate(func: F) -> F:
        sig = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            with output_lock(bound.arguments[param]):
                outer = not _HELD.armed
                _HELD.armed = True
                try:
                    result = func(*args, **kwargs)
                finally:
                    held = _release_held()
                    if outer:
                        _HELD.armed = False
                if held:
                    raise RunInterrupted()
                return result

        return wrapper  # type: ignore[return-value]

    return decorate


def stop_kernels(timeout: float = 5.0) -> int:
    """Terminate the Jupyter kernels this process started, with their own child processes.

    Used when a run is interrupted: kernels run in their own session, so Ctrl-C does not reach
    them, and the run would otherwise wait for every running notebook to finish. A kernel is
    recognised by ``JPY_PARENT_PID`` (set by jupyter_client to this process's id), so other
    child processes (e.g. of a notebook that called the run) are left alone. Returns the number
    of processes stopped (0 when ``psutil`` is not installed).
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        return 0
    me = str(os.getpid())
    procs = []
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if child.environ().get("JPY_PARENT_PID") == me:
                procs += [child, *child.children(recursive=True)]
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    return len(procs)
