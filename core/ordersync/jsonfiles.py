"""JSON files shared with other programs: tolerant reading, atomic replacement, advisory locks.

Platforms without an API (the built-in ``file`` channel and ``file`` store, an ERP's import
folder) keep their data in a folder that other systems and people read and edit. Three rules keep
that safe, and every such plugin needs them alike, so they live here:

- reading tolerates what a person or another tool leaves behind (a byte-order mark, CRLF,
  trailing whitespace) and keeps non-integer numbers exact (``Decimal``, never ``float``);
- writing replaces a file atomically (temp file in the same folder, ``fsync``, ``os.replace``),
  so a reader sees the old or the new content, never half a file;
- read-modify-write cycles run under an exclusive ``fcntl.flock`` on a lock file in the folder,
  so two processes never lose each other's update.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

#: Prefix of the temp files an atomic write leaves for the split second before ``os.replace``
#: (hidden, and never ending in ``.json``, so folder scans never mistake them for data).
TEMP_PREFIX = "."


class JsonFileError(ValueError):
    """A JSON file cannot be read: names the file and the first problem (line and column)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def read_json(path: Path, *, exact_decimals: bool = True) -> Any:
    """The parsed content of ``path``.

    Non-integer numbers become ``Decimal`` (exact money), or ``float`` with
    ``exact_decimals=False``: use that for a read-modify-write of a file that other programs own,
    so that numbers you do not touch are written back as numbers.

    :raises FileNotFoundError: the file does not exist.
    :raises JsonFileError: the file is not UTF-8 JSON.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # tolerates the BOM some Windows editors write
    except UnicodeDecodeError as exc:
        raise JsonFileError(path, f"not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise JsonFileError(path, "the file is empty")
    try:
        return json.loads(text, parse_float=Decimal if exact_decimals else float)
    except json.JSONDecodeError as exc:
        reason = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise JsonFileError(path, reason) from exc
    except RecursionError:
        raise JsonFileError(path, "arrays or objects nested too deeply to read") from None
    except ValueError as exc:  # an integer longer than Python converts (4300 digits)
        reason = f"a value cannot be read: {str(exc).split(';')[0]}"
        raise JsonFileError(path, reason) from None


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # amounts are decimal strings in every public format
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        return str(value)
    msg = f"cannot write {type(value).__name__} as JSON"
    raise TypeError(msg)


def dumps(data: Any) -> str:
    """``data`` as the JSON text ordersync writes: indented, UTF-8, newline-terminated."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=_encode) + "\n"


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON, atomically and durably; creates missing folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(data)
    fd, temp_name = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o644)  # mkstemp makes 0600; other programs must read the file
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename itself is durable only once the directory entry is on disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory; the rename still happened
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (created if missing) for the block.

    Blocks until every other holder (any process, or another open of the same file in this
    process) has released it. Run it in a worker thread (``asyncio.to_thread``) from async code,
    so that waiting for another process never stalls the event loop.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
