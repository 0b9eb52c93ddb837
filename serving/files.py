"""Write files whole or not at all: a failed write never leaves a half file in place.

Output goes to a temporary file in the target's folder and is renamed over the target
only once it is complete (a rename within one file system is atomic), so a full disk or a
crash mid-write keeps the previous good file and leaves no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(temporary, mode)  # as an ordinary new file would be, not mkstemp's 0600
        yield temporary
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write_text(target: Path, text: str) -> None:
    """Write `text` to `target` whole or not at all."""
    with atomic_output(target) as temporary:
        temporary.write_text(text)


def check_writable(target: Path) -> None:
    """Raise `ValueError` saying what to fix if `target` cannot be written as a file."""
    if target.is_dir():
        raise ValueError(f"{target} is a directory: give a file name such as {target}/scores.csv")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write {target}: {folder} is not a writable folder")
    if target.exists() and not os.access(target, os.W_OK):
        raise ValueError(f"cannot write {target}: the file is read-only")
