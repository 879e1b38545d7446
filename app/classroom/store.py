"""Classes on disk: one folder per class in the class directory that every worker process
of a server (and every replica behind one proxy) shares, so a teacher and a learner meet
whichever process holds their sockets (docs/teaching.md, docs/deploy.md).

A class ``<class_dir>/<CODE>/`` holds::

    teacher.json          the hash of the teacher's token; its mtime is the teacher's heartbeat
    setup.json            the setup the teacher sent last (a TrainConfig), if any
    learners/<id>.json    the tiles of the joined learners of one process (name, epoch, test
                          loss, verdict, thumbnail), rewritten a few times a second

Every write is a temporary file and ``os.replace``, so a reader sees a whole file or the
one before.  A class whose teacher's page has been gone ``class_idle_seconds`` is removed
by the next process that looks at it; tiles nobody refreshed for :data:`STALE_SECONDS`
(their worker died) are no longer shown.  Nothing outlives its class.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from app.config import Settings
from app.validation import BadRequest, Strict

#: Class codes: no 0/O, 1/I/L, 5/S or 8/B to mix up when read off a projector.
ALPHABET = "ACDEFGHJKMNPQRTUVWXYZ234679"
CODE_LENGTH = 6
CODE_RULE = f"must be the {CODE_LENGTH} letters and digits on the teacher's screen"
NAME_LENGTH = 24
NAME_RULE = f"must be 1-{NAME_LENGTH} letters, digits, spaces, '.', '-' or an apostrophe"
_NAME = re.compile(rf"^[^\W_][\w .'’-]{{0,{NAME_LENGTH - 1}}}$")
#: A tile refreshed less recently than this is hidden (a learner whose worker died), and
#: removed after ten times as long.
STALE_SECONDS = 15.0


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def class_code(text: str) -> str:
    """The code as typed (any case, spaces or a dash inside), or :class:`BadRequest`."""
    code = re.sub(r"[\s-]", "", text).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        raise BadRequest("code", CODE_RULE)
    return code


def learner_name(text: str) -> str:
    """The name with its spaces tidied, or :class:`BadRequest`."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not _NAME.match(name):
        raise BadRequest("name", NAME_RULE)
    return name


def rules(settings: Settings) -> dict[str, Any]:
    """What ``/api/options`` tells the pages about classes."""
    return {
        "code_length": CODE_LENGTH,
        "code_rule": CODE_RULE,
        "name_length": NAME_LENGTH,
        "name_rule": NAME_RULE,
        "max_learners": settings.class_max_learners,
        "tile_seconds": settings.class_tile_seconds,
        "idle_seconds": settings.class_idle_seconds,
    }


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: The name an ended class's folder is moved to before it is removed (not a code).
ENDED = ".ended-"


def write_atomic(path: Path, data: bytes) -> None:
    """``data`` at ``path``, all at once for any reader (temporary file + ``os.replace``)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class CodeRequest(Strict):
    """A request that names a class by its code (checked by :func:`class_code`)."""

    code: Annotated[str, Field(max_length=64)]


class ClassStore:
    """The class directory (``settings.class_dir``), as every process sees it."""

    def __init__(self, settings: Settings) -> None:
        self.root = Path(settings.class_dir)
        self.most = settings.class_max
        self.most_learners = settings.class_max_learners
        self.idle = settings.class_idle_seconds

    def folder(self, code: str) -> Path:
        return self.root / code

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        """An flock on ``path/.lock``: counting and creating happen as one step across
        processes (a class's learners, the directory's classes)."""
        with open(path / ".lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # ------------------------------------------------------------ the teacher's side
    def open_class(self) -> tuple[str, str]:
        """A new class: its code and the teacher's token (to reclaim it after a reconnect)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._locked(self.root):
            self.sweep()
            if len(self.codes()) >= self.most:
                raise BadRequest("class", f"this server holds {self.most} classes at once")
            code = new_code()
            while self.folder(code).exists():
                code = new_code()
            token = secrets.token_urlsafe(24)
            (self.folder(code) / "learners").mkdir(parents=True)
            teacher = json.dumps({"token": _hash(token)}).encode()
            write_atomic(self.folder(code) / "teacher.json", teacher)
        return code, token

    def reclaim(self, code: str, token: str) -> bool:
        """The teacher's page is back (a reload, a reconnect): is this its class?"""
        try:
            held = json.loads((self.folder(code) / "teacher.json").read_bytes())["token"]
        except (OSError, ValueError, KeyError):
            return False
        ok = secrets.compare_digest(held, _hash(token)) and self.alive(code)
        if ok:
            self.beat(code)
        return ok

    def beat(self, code: str) -> None:
        with contextlib.suppress(OSError):
            os.utime(self.folder(code) / "teacher.json")

    def alive(self, code: str) -> bool:
        try:
            seen = (self.folder(code) / "teacher.json").stat().st_mtime
        except OSError:
            return False
        return time.time() - seen < self.idle

    def end(self, code: str) -> None:
        """The class is over: at once for every process (no teacher's beat, so nobody
        joins; the folder moved aside, so no learner's tiles land in it), then removed."""
        folder = self.folder(code)
        with contextlib.suppress(OSError):
            os.remove(folder / "teacher.json")
        grave = self.root / f"{ENDED}{code}.{secrets.token_hex(4)}"
        try:
            os.rename(folder, grave)
        except OSError:
            grave = folder  # gone already, or it cannot be moved: removed where it is
        shutil.rmtree(grave, ignore_errors=True)

    def codes(self) -> list[str]:
        try:
            return [p.name for p in self.root.iterdir() if p.is_dir() and p.name.isalnum()]
        except OSError:
            return []

    def sweep(self) -> None:
        """Remove every class whose teacher has been gone too long, and what is left of
        an ended one (a file a learner wrote while it was being removed)."""
        for code in self.codes():
            if not self.alive(code):
                self.end(code)
        with contextlib.suppress(OSError):
            for left in self.root.glob(f"{ENDED}*"):
                shutil.rmtree(left, ignore_errors=True)

    def send_setup(
        self, code: str, config: dict[str, Any], label: str, lesson: str | None = None
    ) -> None:
        setup = {"config": config, "label": label, "sent": time.time()}
        if lesson:
            setup["lesson"] = lesson
        write_atomic(self.folder(code) / "setup.json", json.dumps(setup).encode())

    def tiles(self, code: str) -> list[dict[str, Any]]:
        """Every joined learner's tile, by name (a learner who rejoined after a dropped
        socket keeps its place)."""
        now, out = time.time(), []
        folder = self.folder(code) / "learners"
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                age = now - entry.stat().st_mtime
                if age > STALE_SECONDS:
                    if age > 10 * STALE_SECONDS:
                        os.remove(entry.path)
                    continue
                out += json.loads(Path(entry.path).read_bytes())
            except (OSError, ValueError):
                continue  # left a moment ago
        out.sort(key=lambda t: (str(t.get("name", "")).casefold(), t.get("id", "")))
        return out

    # ------------------------------------------------------------ the learners' side
    def admit(self, code: str) -> None:
        """May one more learner join this class?  Else :class:`BadRequest` (no such class,
        or full; learners joining at the very same moment on several processes may pass
        the limit by a few)."""
        if not self.alive(code):
            raise BadRequest("code", "is not a class that is on now: check the teacher's screen")
        if len(self.tiles(code)) >= self.most_learners:
            raise BadRequest("code", f"is a full class: it has {self.most_learners} learners")

    def write_tiles(self, code: str, writer: str, tiles: list[dict[str, Any]]) -> bool:
        """One process's tiles in this class; False when the class is gone."""
        try:
            path = self.folder(code) / "learners" / f"{writer}.json"
            write_atomic(path, json.dumps(tiles).encode())
        except FileNotFoundError:
            return False
        return True

    def remove_tile(self, code: str, writer: str) -> None:
        with contextlib.suppress(OSError):
            os.remove(self.folder(code) / "learners" / f"{writer}.json")

    def setup(self, code: str) -> tuple[int, dict[str, Any]] | None:
        """The last setup sent and its mtime (ns), if any."""
        path = self.folder(code) / "setup.json"
        try:
            stamp = path.stat().st_mtime_ns
            return stamp, json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None

    def setup_stamp(self, code: str) -> int:
        try:
            return (self.folder(code) / "setup.json").stat().st_mtime_ns
        except OSError:
            return 0
