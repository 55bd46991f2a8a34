"""Writing a file whole or not at all, to the place a user names (a worksheet, an export).

The bytes go to a temporary file beside the target, are flushed to disk, and replace the
target by a rename, so the path holds the old file or the whole new one, never a part. A
symbolic link is followed (and stays a link); a folder, pipe or device is refused, since a
rename would replace it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from tutor.errors import TutorError


class FileWriteError(TutorError):
    """A file that cannot be written where it was asked for."""


def writable_target(path: Path) -> Path:
    """The file to replace when writing ``path``: the file a symbolic link points to (the link
    stays a link), never a device, pipe or folder, which a rename would replace."""
    try:
        target = path.resolve()
        mode = target.stat().st_mode if target.exists() else stat.S_IFREG
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links
        raise FileWriteError(
            f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    if stat.S_ISDIR(mode):
        raise FileWriteError(f"{path} is a folder; give the name of a file in it")
    if not stat.S_ISREG(mode):
        raise FileWriteError(f"cannot write {path}: it is not a regular file")
    return target


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (bytes, or text in UTF-8) so that ``path`` holds the old file or the whole
    new one, never a part.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the file is
    renamed over ``path`` (a rename within one file system is atomic). A symbolic link is
    followed; a device, pipe or folder at ``path`` is refused (see :func:`writable_target`).
    """
    path = writable_target(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException as exc:  # Ctrl-C included: no temporary file is left behind
        _remove_quietly(temporary)
        if isinstance(exc, OSError):
            raise FileWriteError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    _sync_folder(path.parent)


def _remove_quietly(temporary: Path) -> None:
    """Remove a temporary file if there is one; where it could not even be created (the folder
    is a file, or read-only), removing it fails too, and the first error is the one to tell."""
    with contextlib.suppress(OSError):
        temporary.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot sync a folder, which is fine."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
