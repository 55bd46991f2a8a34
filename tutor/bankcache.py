"""A cache of loaded banks, so that start-up does not parse and check YAML that has not changed.

A bank is cached under a key made of its bytes, its path and the code that reads banks; any
change to one of them is a miss, and a miss simply loads the bank. The cache lives in the
user's cache folder (``$XDG_CACHE_HOME/gradient-tutor``, ``TUTOR_CACHE_DIR`` to move it, or
``TUTOR_CACHE_DIR=off`` to turn it off); a cache that cannot be read or written is ignored.
It holds only what this program wrote there itself, in the user's own folder.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path

from tutor import __version__
from tutor.bankspec import Bank
from tutor.errors import BankError

# Every upgrade and every edit of a bank adds entries; the oldest beyond this many are removed.
MAX_ENTRIES = 256

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


def load_bank_cached(path: Path) -> Bank:
    """The bank at ``path``, from the cache when its bytes have been loaded before."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BankError(f"cannot read the file: {exc.strerror or exc}", path=name) from None
    folder = cache_dir()
    entry = folder / f"{_key(name, data)}.pickle" if folder else None
    cached = _read(entry, name) if entry else None
    if cached is not None:
        return cached
    from tutor.bank import parse_bytes  # YAML is needed only on a miss

    bank = parse_bytes(data, name)
    if entry is not None:
        _write(entry, bank)
    return bank


def _key(name: str, data: bytes) -> str:
    digest = hashlib.sha256(_code_fingerprint())
    digest.update(name.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(data)
    return digest.hexdigest()[:40]


def _read(entry: Path, name: str) -> Bank | None:
    try:
        with entry.open("rb") as file:
            bank = pickle.load(file)
    except (
        OSError,
        pickle.PickleError,
        EOFError,
        AttributeError,
        ImportError,
        TypeError,
        ValueError,
    ):
        return None
    return bank if isinstance(bank, Bank) and bank.path == name else None


def _write(entry: Path, bank: Bank) -> None:
    """Store an entry atomically; a folder that cannot be written just means no cache."""
    import tempfile  # only when writing

    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=entry.parent, delete=False) as file:
            pickle.dump(bank, file, protocol=pickle.HIGHEST_PROTOCOL)
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
