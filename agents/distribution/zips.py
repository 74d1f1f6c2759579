"""A zip written as a stream, the same bytes for the same files.

CPython's ``zipfile`` writes to an output that cannot seek (documented since Python 3.5): each
member's sizes and CRC go in a data descriptor after its data, and the central directory at the
end. We hand it an output that collects what it writes and give that away in chunks, so memory
holds one chunk and the central directory (about a hundred bytes per file), whatever the number
of files.

Deterministic: every member gets the same timestamp (1980-01-01 00:00, the earliest a zip can
hold), the same permissions (rw-r--r--, made on Unix), no extra fields and no comment, and is
stored uncompressed, so the bytes never depend on the zlib build either. (zipstream-ng, the
streaming-zip library we looked at first, stamps members added from memory with the current
time and offers no way to set it: pR0Ps/zipstream-ng#27.)
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # a regular file, rw-r--r--
UNIX = 3  # "made by" system: permissions in external_attr are Unix ones
CHUNK_BYTES = 64 * 1024


class _Collector:
    """An output without ``seek`` or ``tell``: zipfile then writes a streamable zip into it."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.size = 0
        return data


def member(name: str) -> zipfile.ZipInfo:
    """The header of one file of the zip: fixed time, permissions and system."""
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.create_system = UNIX
    info.external_attr = FILE_MODE << 16
    info.compress_type = zipfile.ZIP_STORED
    return info


def stream(files: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """The zip of ``files`` (name in the zip, bytes), in the order given, in chunks of about
    ``CHUNK_BYTES``. Nothing is read from ``files`` before the first chunk is asked for."""
    out = _Collector()
    with zipfile.ZipFile(out, mode="w") as archive:
        for name, data in files:
            archive.writestr(member(name), data)
            if out.size >= CHUNK_BYTES:
                yield out.take()
    yield out.take()
