"""A cache of loaded banks, so that start-up does not parse and check YAML that has not changed.

The banks a command loads together (the bundled ones, and any of the user's own) are cached as
one entry under a key made of their paths, their bytes and the code that reads banks; any
change to one of them is a miss, and a miss simply loads the banks (about 0.15 s for the
bundled ones). One entry for the lot means one file to read and one unpickling at start-up.
The cache lives in the user's cache folder (``$XDG_CACHE_HOME/gradient-tutor``,
``TUTOR_CACHE_DIR`` to move it, or ``TUTOR_CACHE_DIR=off`` to turn it off); a cache that cannot
be read or written is ignored. It holds only what this program wrote there itself, in the
user's own folder.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from collections.abc import Sequence
from pathlib import Path

from tutor import __version__
from tutor.bankspec import Bank
from tutor.errors import BankError

# Every upgrade and every edit of a bank adds an entry (about 0.45 MB with the bundled banks);
# the oldest beyond this many are removed.
MAX_ENTRIES = 32

# The modules whose code decides what a loaded bank looks like.
_READERS = ("bank.py", "bankspec.py", "strictyaml.py", "fields.py", "concepts.py", "answers.py")


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


def load_banks_cached(paths: Sequence[Path]) -> tuple[Bank, ...]:
    """The banks at ``paths``, in order, from the cache when these bytes were loaded before."""
    sources = [(str(path), _read_source(path)) for path in paths]
    folder = cache_dir()
    entry = folder / f"{_key(sources)}.pickle" if folder else None
    cached = _read(entry, [name for name, _ in sources]) if entry else None
    if cached is not None:
        return cached
    from tutor.bank import parse_bytes  # YAML is needed only on a miss

    banks = tuple(parse_bytes(data, name) for name, data in sources)
    if entry is not None:
        _write(entry, banks)
    return banks


def _read_source(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BankError(f"cannot read the file: {exc.strerror or exc}", path=str(path)) from None


def _key(sources: Sequence[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(_code_fingerprint())
    for name, data in sources:
        digest.update(name.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:40]


def _read(entry: Path, names: Sequence[str]) -> tuple[Bank, ...] | None:
    try:
        banks = pickle.loads(entry.read_bytes())
    except (
        OSError,
        pickle.PickleError,
        EOFError,
        AttributeError,
        ImportError,
        IndexError,
        TypeError,
        ValueError,
    ):
        return None
    if not isinstance(banks, tuple) or not all(isinstance(bank, Bank) for bank in banks):
        return None
    return banks if [bank.path for bank in banks] == list(names) else None


def _write(entry: Path, banks: tuple[Bank, ...]) -> None:
    """Store an entry atomically; a folder that cannot be written just means no cache."""
    import tempfile  # only when writing

    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=entry.parent, delete=False) as file:
            pickle.dump(banks, file, protocol=pickle.HIGHEST_PROTOCOL)
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
