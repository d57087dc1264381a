"""Local delivery channels: files in an outbox folder, written atomically under their key.

The real channels (SMTP, print vendor, carrier) replace these behind the same calls; a file
named by its key is what makes a retried write land on the same file instead of a second one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


class Outbox:
    """A folder per channel: letters/, email/, print/, ship/."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, channel: str, key: str, suffix: str) -> Path:
        """Where the item with this key lives (keys are opaque ids, checked to be file-safe)."""
        if not _SAFE.match(key) or not _SAFE.match(channel):
            raise ValueError("outbox keys must be opaque, file-safe ids")
        return self.root / channel / f"{key}{suffix}"

    def write(self, channel: str, key: str, suffix: str, content: bytes) -> Path:
        """Write once, atomically: a reader never sees half a file."""
        target = self.path_for(channel, key, suffix)
        if target.exists():
            return target
        return self._put(target, content)

    def replace(self, channel: str, key: str, suffix: str, content: bytes) -> Path:
        """Write atomically, replacing what an earlier attempt wrote under this key (for a
        file that must match the latest state elsewhere, e.g. the label of the live shipment)."""
        return self._put(self.path_for(channel, key, suffix), content)

    @contextmanager
    def spool(self, channel: str, key: str, suffix: str) -> Iterator[BinaryIO]:
        """Write a file too big to hold in memory piece by piece, with `write`'s guarantees:
        it lands atomically and once (if the key already has a file, that file stays). A spool
        left empty, or abandoned by an exception, leaves nothing behind."""
        target = self.path_for(channel, key, suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as out:
                yield out
                empty = out.tell() == 0
            if empty or target.exists():
                tmp.unlink()
            else:
                os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def _put(self, target: Path, content: bytes) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(content)
        os.replace(tmp, target)
        return target
