"""Owned, atomic output folders: a run's files appear all at once, or not at all.

:class:`OutputFolder` is how the report and the notebook run write their files:

- Everything is written into a staging folder beside the output folder (same file system,
  named ``.<name>.loyaltylab-unfinished-<random>``), then moved into place with two renames
  at the end. A run that is stopped, or that fails (a full disk, an unwritable file),
  leaves the previous complete output as it was, and removes its staging folder. A run
  killed outright (``kill -9``, a power cut) may leave the staging folder behind; the next
  run into the same folder removes it, and puts back a previous output caught between the
  two renames.
- The output folder holds a manifest, ``.loyaltylab-manifest.json``, listing the files the
  run wrote. A new run replaces exactly those files: files of the previous run that the new
  one did not write are gone (no charts of the last client beside the new report), and
  files the user added to the folder are kept.
- :func:`check_output_folder` refuses an output folder that is a symbolic link or holds
  one, that is or lies inside the source folder (or holds it), and an existing folder that
  is not empty and has no manifest (it holds someone's files).
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from collections.abc import Iterator

from loyaltylab._util import safe_text
from loyaltylab.exceptions import LoyaltyLabError

__all__ = ["OutputError", "OutputFolder", "check_output_folder", "describe_os_error",
           "MANIFEST"]

MANIFEST = ".loyaltylab-manifest.json"
"""The file, in an output folder, that lists what loyaltylab wrote there."""
_UNFINISHED = ".loyaltylab-unfinished-"
_PREVIOUS = ".loyaltylab-previous-"
_MARKER = ".loyaltylab-unfinished"
"""A file inside every staging folder: only folders that hold it are ever removed."""


class OutputError(LoyaltyLabError):
    """The output folder cannot be used (a link, inside the source, someone's files)."""


def _show(path: Path) -> str:
    return safe_text(str(path), limit=400)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_folder(out: str | Path, *, source: str | Path | None = None) -> Path:
    """Check that ``out`` is a folder loyaltylab may own; return its absolute path.

    Refused, with :class:`OutputError`: ``out`` is a symbolic link or holds one; ``out``
    is the source folder, lies inside it or holds it; ``out`` is a file; ``out`` is an
    existing folder that is not empty and has no manifest of an earlier run. Links in
    the folders above ``out`` (such as ``/tmp`` on macOS) are followed.

    Parameters
    ----------
    out : str or Path
        The output folder (created later, when the run writes).
    source : str or Path, optional
        The folder or file the data were read from; ``out`` may not overlap it.

    Returns
    -------
    Path
        ``out`` as an absolute path.

    Examples
    --------
    >>> import tempfile
    >>> base = Path(tempfile.mkdtemp())
    >>> check_output_folder(base / "reports") == base.resolve() / "reports"
    True
    >>> (base / "client").mkdir()
    >>> check_output_folder(base / "client" / "out", source=base / "client")
    Traceback (most recent call last):
    ...
    loyaltylab.report._output.OutputError: the output folder ... is inside the source \
folder ...; choose a folder outside it, e.g. ...
    """
    given = Path(os.path.abspath(Path(out).expanduser()))
    if given.is_symlink():
        raise OutputError(f"the output folder {_show(given)} is a symbolic link; loyaltylab "
                          f"does not write through links: give the folder it points to, or "
                          f"a new folder")
    real = given.parent.resolve() / given.name
    if source is not None:
        src = Path(os.path.abspath(Path(source).expanduser())).resolve()
        if _within(real, src):
            raise OutputError(
                f"the output folder {_show(real)} is "
                f"{'the source folder' if real == src else 'inside the source folder'} "
                f"{_show(src)}; choose a folder outside it, e.g. "
                f"{_show(src.parent / (src.stem + '-report'))}")
        if src.exists() and _within(src, real):
            raise OutputError(f"the output folder {_show(real)} holds the source "
                              f"{_show(src)}; choose a folder of its own for the output")
    if not real.exists():
        return real
    if not real.is_dir():
        raise OutputError(f"the output folder {_show(real)} is a file; choose a folder")
    link = _first_link(real)
    if link is not None:
        raise OutputError(f"the output folder {_show(real)} holds a symbolic link, "
                          f"{_show(link.relative_to(real))}; loyaltylab does not write "
                          f"through links: remove it or choose a new folder")
    if any(real.iterdir()) and not (real / MANIFEST).is_file():
        raise OutputError(f"the output folder {_show(real)} is not empty and was not written "
                          f"by loyaltylab (it has no {MANIFEST}); choose a new or empty "
                          f"folder so that none of its files are replaced")
    _read_manifest(real)
    return real


def _first_link(folder: Path) -> Path | None:
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted(dirs + files):
            path = Path(root) / name
            if path.is_symlink():
                return path
    return None


def _read_manifest(folder: Path) -> list[str]:
    path = folder / MANIFEST
    if not path.is_file():
        return []
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise ValueError("files is not a list of names")
    except (ValueError, KeyError, TypeError) as exc:
        raise OutputError(f"{_show(path)} cannot be read ({type(exc).__name__}); it is "
                          f"not a loyaltylab manifest: choose a new folder, or delete it "
                          f"if the folder holds only an earlier loyaltylab output") from None
    safe = []
    for name in files:
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or name in ("", "."):
            continue  # a manifest never reaches outside its folder
        safe.append(rel.as_posix())
    return safe


def _files(folder: Path) -> list[str]:
    out = []
    for root, _, files in os.walk(folder, followlinks=False):
        for name in files:
            out.append((Path(root) / name).relative_to(folder).as_posix())
    return sorted(out)


def describe_os_error(exc: OSError, *, out: str | Path | None = None) -> str:
    """One plain line for a failed write: a full disk, a folder without write permission.

    Parameters
    ----------
    exc : OSError
        The error the write raised.
    out : str or Path, optional
        The output folder, named as left unchanged.

    Returns
    -------
    str
        What happened and what to do, in words.

    Examples
    --------
    >>> import errno
    >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device", "/r/tables.xlsx"),
    ...                   out="/r")
    'the disk is full: writing /r/tables.xlsx failed; free some space or choose another
    output folder (/r was left as it was)'
    """
    where = f" ({_show(Path(out))} was left as it was)" if out is not None else ""
    name = exc.filename if exc.filename is not None else ""
    target = _show(Path(str(name))) if name else "a file"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"the disk is full: writing {target} failed; free some space or choose "
                f"another output folder{where}")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"cannot write to {target}: permission denied or a read-only disk; choose "
                f"a folder you can write to{where}")
    reason = exc.strerror or type(exc).__name__
    return f"{target}: {safe_text(reason)}{where}" if name else safe_text(str(exc))


class OutputFolder:
    """Write a run's files into a staging folder and move them into ``out`` at the end.

    Use as a context manager: the ``with`` block writes into the folder it is given; on a
    normal exit the files replace the previous output of ``out`` (see the module notes);
    on an error the staging folder is removed and ``out`` is left as it was.

    Parameters
    ----------
    out : str or Path
        The output folder (checked with :func:`check_output_folder`).
    source : str or Path, optional
        The source read by the run: ``out`` may not be or lie inside it.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "reports"
    >>> with OutputFolder(out) as stage:
    ...     _ = (stage / "report.html").write_text("<p>first</p>")
    ...     _ = (stage / "old-chart.png").write_bytes(b"png")
    >>> with OutputFolder(out) as stage:
    ...     _ = (stage / "report.html").write_text("<p>second</p>")
    >>> sorted(p.name for p in out.iterdir())
    ['.loyaltylab-manifest.json', 'report.html']
    """

    def __init__(self, out: str | Path, *, source: str | Path | None = None) -> None:
        self.source = source
        self.out = check_output_folder(out, source=source)
        self.staging: Path | None = None

    def final(self, path: str | Path) -> Path:
        """Where a file written into the staging folder ends up in ``out``."""
        path = Path(path)
        if self.staging is not None and _within(path, self.staging):
            return self.out / path.relative_to(self.staging)
        return path

    def __enter__(self) -> Path:
        parent = self.out.parent
        parent.mkdir(parents=True, exist_ok=True)
        recover(self.out)
        stage = parent / f".{self.out.name}{_UNFINISHED}{secrets.token_hex(4)}"
        stage.mkdir()
        self.staging = stage
        (stage / _MARKER).write_text(f"pid {os.getpid()}\nloyaltylab is writing here; a "
                                     f"folder left behind by a stopped run is removed by "
                                     f"the next run\n", encoding="utf-8")
        return stage

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        try:
            if exc_type is None:
                self._commit()
        finally:
            if self.staging is not None and (self.staging / _MARKER).exists():
                shutil.rmtree(self.staging, ignore_errors=True)
        return False

    def _commit(self) -> None:
        with _signals_held():
            self._move_into_place()

    def _move_into_place(self) -> None:
        stage, out = self.staging, self.out
        if stage is None:
            return
        written = [f for f in _files(stage) if f not in (MANIFEST, _MARKER)]
        (stage / MANIFEST).write_text(json.dumps(
            {"written_by": "loyaltylab", "files": written}, indent=1) + "\n",
            encoding="utf-8")
        check_output_folder(out, source=self.source)  # nothing changed meanwhile
        previous = None
        if out.exists():
            previous = out.parent / f".{out.name}{_PREVIOUS}{secrets.token_hex(4)}"
            os.rename(out, previous)
        os.rename(stage, out)  # the marker moves along; it is removed below
        self.staging = None
        (out / _MARKER).unlink()
        if previous is not None:
            _keep_user_files(previous, out)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGTERM and SIGINT while the files are moved into place (a few renames), so a
    stop request lands before or after the swap, never between its two renames.

    Python runs signal handlers in the main thread, whichever thread the signal reached,
    so the handlers are swapped for one that notes the signal; the notes are replayed to
    the original handlers afterwards. Outside the main thread nothing is held.
    """
    pending: list[int] = []
    previous = {}
    try:
        for signum in (signal.SIGTERM, signal.SIGINT):
            handler = signal.getsignal(signum)
            if handler is not None:  # None: a handler set outside Python, left alone
                previous[signum] = signal.signal(signum, lambda n, _: pending.append(n))
    except ValueError:  # not the main thread
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in pending:
            signal.raise_signal(signum)


def _keep_user_files(previous: Path, out: Path) -> None:
    """Move the files the user added to the previous output into the new one, then remove
    the previous output (only the files its manifest lists, and empty folders)."""
    ours = set(_read_manifest(previous)) | {MANIFEST, _MARKER}
    for rel in _files(previous):
        if rel in ours:
            continue
        dest = out / rel
        if dest.exists():  # the new run wrote a file of that name: keep both
            dest = dest.with_name(dest.name + ".yours")
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(previous / rel, dest)
    shutil.rmtree(previous, ignore_errors=True)


def _writer(marker: Path) -> int | None:
    """The process still writing a staging folder (from its marker), or None."""
    try:
        first = marker.read_text(encoding="utf-8").split("\n", 1)[0]
        pid = int(first.removeprefix("pid "))
    except (OSError, ValueError):
        return None
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except (PermissionError, OSError):
        return pid  # it exists (another user's) or cannot be asked: assume it is running
    return pid


def recover(out: str | Path) -> list[Path]:
    """Clean up after a run into ``out`` that was killed: remove its staging folders, and
    put back (or finish replacing) an output caught between the two final renames.
    Returns the folders dealt with. Raises :class:`OutputError` when another run is
    still writing into ``out`` (its process is alive)."""
    out = Path(out)
    parent = out.parent
    done: list[Path] = []
    if not parent.is_dir():
        return done
    stale = [path for path in sorted(parent.glob(f".{out.name}{_UNFINISHED}*"))
             if path.is_dir() and not path.is_symlink() and (path / _MARKER).is_file()]
    for path in stale:
        pid = _writer(path / _MARKER)
        if pid is not None:
            raise OutputError(f"another loyaltylab run (process {pid}) is writing into "
                              f"{_show(out)}; wait for it to end, or choose another folder")
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
        done.append(path)
    if (out / _MARKER).is_file() and (out / MANIFEST).is_file():
        (out / _MARKER).unlink()  # killed just after the final rename
    for path in sorted(parent.glob(f".{out.name}{_PREVIOUS}*")):
        if not path.is_dir() or path.is_symlink() or not (path / MANIFEST).is_file():
            continue
        if not out.exists():
            os.rename(path, out)  # killed between the renames: the previous output is back
        else:
            _keep_user_files(path, out)
        done.append(path)
    return done
