"""Writing a file without following a symlink someone planted where it goes.

A key written into a shared or downloaded folder, or the daemon's record in its data directory,
must land in a new file of our own, never wherever a planted symlink points. Both ways here
create the bytes in a file that did not exist before (``O_CREAT | O_EXCL``, which refuses any
existing name, a symlink included, and ``O_NOFOLLOW``), flushed to disk, then:

- ``replace=False``: that new file *is* the target; anything already at the path is an error;
- ``replace=True``: the data goes into a fresh temporary file beside the target, which is then
  renamed over it. A rename replaces a symlink itself, never the file it points to, and a
  reader sees the old file or the new one, never half of it.

Standard library only; every package may use it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _write_fd(fd: int, data: bytes, mode: int) -> None:
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new_file(path: Path, data: bytes, *, mode: int = 0o644, replace: bool = False) -> None:
    """Write ``data`` to ``path`` (file mode ``mode``) without following symlinks.

    Raises ``FileExistsError`` when ``replace`` is False and anything, even a dangling symlink,
    is at ``path``; other ``OSError`` as the system reports it.
    """
    path = Path(path)
    if not replace:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NO_FOLLOW, mode & 0o600)
        try:
            _write_fd(fd, data, mode)
        except BaseException:
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        return
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # O_EXCL, 0600
    try:
        _write_fd(fd, data, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
