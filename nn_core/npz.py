"""Reading an ``.npz`` file that may have been made to hurt: every size is checked before
anything is allocated or inflated.

``np.load`` trusts a file: a member's ``.npy`` header may claim any shape, a deflated member
may inflate to gigabytes, and a zip may list a million members.  :class:`NpzReader` reads
the zip's end record first (how many members, how large the directory), refuses members
that are not stored or deflated (bzip2 and lzma inflate a whole chunk at once), refuses a
member whose stated size is over ``max_member_bytes`` without inflating it, and reads an
array only after its ``.npy`` header was read and its shape and dtype were accepted.  A
member can never yield more bytes than its stated size (``zipfile`` cuts it there), so
memory is bounded by what the checks accepted.
"""

from __future__ import annotations

import io
import math
import os
import struct
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy

from nn_core.types import Array

#: Held while a ``.npy`` header is parsed: ``ast`` on two threads at once can fail in
#: CPython 3.11 (gh-106905, "AST constructor recursion depth mismatch").
_HEADERS = threading.Lock()

#: The end of central directory record: signature, then entries and the directory's size.
_END = b"PK\x05\x06"
_END_SIZE = 22
#: The largest array a file may hold unless the caller says otherwise (1 GB).
MAX_ARRAY_BYTES = 1 << 30


class NpzError(ValueError):
    """The file is not an ``.npz`` file this reader accepts; the message says why."""


class NpzReader:
    """Bounded access to the arrays of one ``.npz`` held in memory (use ``with``).

    ``max_members`` and ``max_member_bytes`` bound the zip; :meth:`shape` reads one
    member's ``.npy`` header only, :meth:`array` reads the member itself.
    """

    def __init__(self, data: bytes, *, max_members: int = 64, max_member_bytes: int) -> None:
        self.max_member_bytes = max_member_bytes
        _check_directory(data, max_members)
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise NpzError(f"not a zip file: {exc}") from exc
        self._members = {info.filename.removesuffix(".npy"): info for info in self._zip.infolist()}

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    @property
    def names(self) -> list[str]:
        return list(self._members)

    def _open(self, name: str) -> tuple[Any, tuple[int, ...], np.dtype[Any]]:
        info = self._members.get(name)
        if info is None:
            raise NpzError(f"no array {name}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise NpzError(f"array {name} is compressed in a way this reader refuses")
        if info.file_size > self.max_member_bytes:
            raise NpzError(
                f"array {name} would inflate to {info.file_size:,} bytes "
                f"(at most {self.max_member_bytes:,})"
            )
        stream = self._zip.open(info)
        try:
            version = npy.read_magic(stream)
            read_header = npy.read_array_header_1_0 if version == (1, 0) else None
            if version == (2, 0):
                read_header = npy.read_array_header_2_0
            if read_header is None:
                raise NpzError(f"array {name} has an unknown .npy version {version}")
            with _HEADERS:  # numpy parses it with ast, not thread-safe in CPython 3.11
                shape, fortran, dtype = read_header(stream, max_header_size=10_000)
        except NpzError:
            stream.close()
            raise
        except Exception as exc:  # a malformed .npy header: numpy raises ValueError and more
            stream.close()
            raise NpzError(f"array {name} has no readable header: {exc}") from exc
        if fortran or dtype.hasobject or dtype.kind not in "fiuU" or dtype.itemsize == 0:
            stream.close()
            raise NpzError(f"array {name} holds {dtype} data, which a model never holds")
        return stream, tuple(int(n) for n in shape), dtype

    def shape(self, name: str) -> tuple[tuple[int, ...], str] | None:
        """The shape and dtype kind (``"f"`` for floats) that member ``name`` declares,
        without reading its data; None when there is no such member."""
        if name not in self._members:
            return None
        stream, shape, dtype = self._open(name)
        stream.close()
        return shape, dtype.kind

    def array(self, name: str) -> Array:
        """Member ``name``'s array, read only when its declared size fits the bound."""
        stream, shape, dtype = self._open(name)
        with stream:
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > self.max_member_bytes:
                raise NpzError(f"array {name} claims {nbytes:,} bytes")
            try:
                data = stream.read(nbytes)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise NpzError(f"array {name} cannot be read: {exc}") from exc
            if len(data) != nbytes:
                raise NpzError(f"array {name} is cut short")
        return np.frombuffer(data, dtype=dtype).reshape(shape)


def _check_directory(data: bytes, max_members: int) -> None:
    """Refuse a zip whose end record lists more than ``max_members`` members (or a huge
    directory) before ``zipfile`` builds an object for each of them."""
    at = data.rfind(_END, max(0, len(data) - 65_536 - _END_SIZE))
    if at < 0 or len(data) - at < _END_SIZE:
        raise NpzError("not a zip file: no end record (truncated?)")
    _, _, on_disk, total, directory, _ = struct.unpack("<HHHHII", data[at + 4 : at + 20])
    if total > max_members or on_disk != total or directory > max_members * 1024:
        raise NpzError(f"the zip lists {total} members (at most {max_members})")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory (fsync'ed), then
    ``os.replace`` and an fsync of the directory, so the rename itself survives a crash.
    A kill midway leaves ``.<name>.*.tmp`` behind, never half a file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; models are meant to be shared read-only
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
