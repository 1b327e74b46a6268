"""Read an uploaded zip archive defensively: every entry is checked before anything is kept.

Refused: archives that are not zips, entries escaping the package (`..`, absolute paths,
drive letters, backslashes), symbolic links, duplicate names, names that are not UTF-8,
too many entries, a file or a total over the limits, and compression ratios no real
course has (zip bombs). Sizes are enforced while reading, not taken from the headers.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

MAX_ENTRIES = 20000
MAX_RATIO = 200  # uncompressed / compressed, for entries over 1 MB


class ArchiveRefused(Exception):
    def __init__(self, rule: str, message: str):
        self.rule, self.message = rule, message
        super().__init__(message)


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_total_bytes: int


def is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _safe_name(info: zipfile.ZipInfo) -> str:
    raw = info.filename
    if not info.flag_bits & 0x800:
        # Without the UTF-8 flag, zipfile decoded the name as cp437: allow plain ASCII only.
        if any(ord(c) > 127 for c in raw):
            raise ArchiveRefused("14.1.0.0-1", f"the name {raw!r} is not UTF-8; rename the file and zip it again")
    if "\x00" in raw or "\\" in raw:
        raise ArchiveRefused("14.1.0.0-1", f"the name {raw!r} contains a backslash or NUL")
    path = PurePosixPath(raw)
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":") or ".." in path.parts:
        raise ArchiveRefused("14.1.0.0-1", f"the entry {raw!r} points outside the package")
    return "/".join(p for p in path.parts if p not in ("", "."))


def read_zip(data: bytes, limits: Limits) -> dict[str, bytes]:
    """Every file of the archive by its path inside the package; directories are dropped."""
    if not is_zip(data):
        raise ArchiveRefused("14.1.0.0-1", "the file is not a zip archive")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise ArchiveRefused("14.1.0.0-1", f"the zip archive cannot be read: {error}") from None
    if len(infos) > MAX_ENTRIES:
        raise ArchiveRefused("14.1.0.0-1", f"the archive has {len(infos)} entries; the limit is {MAX_ENTRIES}")
    files: dict[str, bytes] = {}
    lowered: set[str] = set()
    total = 0
    for info in infos:
        name = _safe_name(info)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ArchiveRefused("14.1.0.0-1", f"the entry {info.filename!r} is a symbolic link")
        if info.is_dir() or not name:
            continue
        if name.lower() in lowered:
            raise ArchiveRefused("14.1.0.0-1", f"the entry {info.filename!r} appears twice")
        lowered.add(name.lower())
        if info.file_size > limits.max_file_bytes:
            raise ArchiveRefused("14.1.0.0-1", f"{name} is {info.file_size} bytes, over the limit of "
                                               f"{limits.max_file_bytes} bytes for one file")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ArchiveRefused("14.1.0.0-1", f"{name} expands {info.file_size // max(info.compress_size, 1)} "
                                               "times: refused as a zip bomb")
        try:
            with archive.open(info) as stream:
                content = stream.read(limits.max_file_bytes + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as error:
            raise ArchiveRefused("14.1.0.0-1", f"{name} cannot be read from the archive: {error}") from None
        if len(content) > limits.max_file_bytes:
            raise ArchiveRefused("14.1.0.0-1", f"{name} is over the limit of {limits.max_file_bytes} bytes")
        total += len(content)
        if total > limits.max_total_bytes:
            raise ArchiveRefused("14.1.0.0-1", f"the package expands to over {limits.max_total_bytes} bytes")
        files[name] = content
    return files
