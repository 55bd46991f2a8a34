"""A cache of loaded banks, so that start-up does not parse and check YAML that has not changed.

The banks a command loads together (the bundled ones, and any of the user's own) are cached as
one entry under a key made of their paths, their bytes and the code that reads banks; any
change to one of them is a miss, and a miss simply loads the banks (about 0.15 s for the
bundled ones). One entry for the lot means one file to read at start-up. Inside it each bank
is pickled on its own, with an index of which bank holds which question id, and is unpickled
the first time it is used: a command about one question reads one bank.
The cache lives in the user's cache folder (``$XDG_CACHE_HOME/gradient-tutor``,
``TUTOR_CACHE_DIR`` to move it, or ``TUTOR_CACHE_DIR=off`` to turn it off); a cache that cannot
be read or written is ignored. It holds only what this program wrote there itself, in the
user's own folder.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import pickle
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import overload

from tutor import __version__
from tutor.bankspec import MAX_BANK_BYTES, Bank
from tutor.errors import BankError

# Every upgrade and every edit of a bank adds an entry (about 0.45 MB with the bundled banks);
# the oldest beyond this many are removed.
MAX_ENTRIES = 32

# The modules whose code decides what a loaded bank looks like.
_READERS = (
    *("bank.py", "bankspec.py", "strictyaml.py", "fields.py", "concepts.py", "answers.py"),
    *("bankcache.py", "catalog.py"),  # the entry's layout, and the check it passed
)


def cache_dir() -> Path | None:
    """Where banks are cached, or None when caching is off."""
    chosen = os.environ.get("TUTOR_CACHE_DIR", "")
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gradient-tutor" / "banks"


@functools.cache
def _code_fingerprint() -> bytes:
    """A digest of the bank-reading code, so an upgrade never reuses an old entry."""
    digest = hashlib.sha256(__version__.encode())
    here = Path(__file__).parent
    for name in _READERS:
        digest.update((here / name).read_bytes())
    return digest.digest()


class LoadedBanks(Sequence[Bank]):
    """The banks of one load, in order, and which bank holds each question id (``where``).

    Banks from a cache entry are unpickled when first used. One that does not unpickle into
    the bank it should be is parsed from its bytes instead, so a damaged entry costs time only.
    """

    def __init__(
        self,
        sources: Sequence[tuple[str, bytes]],
        banks: Sequence[Bank | bytes],
        where: Mapping[str, int],
    ) -> None:
        self._sources = sources
        self._banks = list(banks)
        self.where = where

    def __len__(self) -> int:
        return len(self._banks)

    @overload
    def __getitem__(self, index: int) -> Bank: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Bank]: ...
    def __getitem__(self, index: int | slice) -> Bank | Sequence[Bank]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        bank = self._banks[index]
        if isinstance(bank, Bank):
            return bank
        self._banks[index] = loaded = self._unpickle(index, bank)
        return loaded

    def _unpickle(self, index: int, blob: bytes) -> Bank:
        name, data = self._sources[index]
        bank = _unpickled(blob)
        if isinstance(bank, Bank) and bank.path == name:
            return bank
        from tutor.bank import parse_bytes

        return parse_bytes(data, name)


def load_banks_cached(
    paths: Sequence[Path], check: Callable[[Sequence[Bank]], None] = lambda _banks: None
) -> LoadedBanks:
    """The banks at ``paths``, in order, from the cache when these bytes were loaded before.

    ``check`` runs on banks that were just parsed, before they are cached: a set of banks that
    fails it is never cached, so it fails again next time.
    """
    sources = [(str(path), read_bank_bytes(path)) for path in paths]
    folder = cache_dir()
    entry = folder / f"{_key(sources)}.pickle" if folder else None
    cached = _read(entry, sources) if entry else None
    if cached is not None:
        return cached
    from tutor.bank import parse_bytes  # YAML is needed only on a miss

    banks = tuple(parse_bytes(data, name) for name, data in sources)
    check(banks)
    where = {q.id: i for i, bank in enumerate(banks) for q in bank.questions}
    if entry is not None:
        _write(entry, banks, where)
    return LoadedBanks(sources, banks, where)


def read_bank_bytes(path: Path) -> bytes:
    """The bytes of a bank file, refused once past the size limit before more is read (a
    file of gigabytes, or a device that never ends, is not read whole)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BANK_BYTES + 1)
    except OSError as exc:
        raise BankError(f"cannot read the file: {exc.strerror or exc}", path=str(path)) from None
    if len(data) > MAX_BANK_BYTES:
        raise BankError(f"file is larger than {MAX_BANK_BYTES // 1000} kB", path=str(path))
    return data


def _key(sources: Sequence[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(_code_fingerprint())
    for name, data in sources:
        digest.update(name.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:40]


def _unpickled(data: bytes) -> object:
    """What ``data`` unpickles to, or None. Unpickling makes thousands of lasting objects and
    no garbage, so cycle collection waits meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    except Exception:  # whatever is wrong with our own cache, it is only a miss
        return None
    finally:
        if was_enabled:
            gc.enable()


def _read(entry: Path, sources: Sequence[tuple[str, bytes]]) -> LoadedBanks | None:
    """The entry's banks (still pickled) and index, or None if it is missing or not ours."""
    try:
        contents = _unpickled(entry.read_bytes())
    except OSError:
        return None
    if not isinstance(contents, tuple) or len(contents) != 3:  # (names, blobs, where)
        return None
    names, blobs, where = contents
    if names != [name for name, _ in sources] or not isinstance(where, dict):
        return None
    if not all(type(key) is str for key in where):
        return None
    if not isinstance(blobs, tuple) or not all(isinstance(blob, bytes) for blob in blobs):
        return None
    count = len(sources)
    if len(blobs) != count or not all(type(i) is int and 0 <= i < count for i in where.values()):
        return None
    return LoadedBanks(sources, blobs, where)


def _write(entry: Path, banks: Sequence[Bank], where: Mapping[str, int]) -> None:
    """Store an entry atomically; a folder that cannot be written just means no cache."""
    import tempfile  # only when writing

    names = [bank.path for bank in banks]
    blobs = tuple(pickle.dumps(bank, protocol=pickle.HIGHEST_PROTOCOL) for bank in banks)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=entry.parent, delete=False) as file:
            pickle.dump((names, blobs, dict(where)), file, protocol=pickle.HIGHEST_PROTOCOL)
        Path(file.name).replace(entry)
    except OSError:
        return
    _prune(entry.parent)


def _prune(folder: Path) -> None:
    """Keep the ``MAX_ENTRIES`` newest entries (a removed one is only a miss next time)."""
    try:
        entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-MAX_ENTRIES]:
            old.unlink(missing_ok=True)
    except OSError:
        return
