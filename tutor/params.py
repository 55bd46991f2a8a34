"""Seeded parameter sampling: (question id, seed) always gives the same numbers.

The stream is Python's Mersenne Twister seeded with a SHA-256 digest of the question id and
the seed, never ``hash()`` (which changes between runs) and never a global random state.
Every draw is made from ``random()``: for a given seed, Python keeps its sequence the same
across versions (NumPy promises that for its bit generators, not its Generator's methods), and
a question that runs no NumPy model does not load NumPy to draw its numbers.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Mapping
from typing import Any

from tutor.bankspec import ParamSpec, Scalar

MAX_SIZE = 200
_EXACT = 2**53


def rng_for(question_id: str, seed: int) -> random.Random:
    """The random stream that names a variant."""
    return named_stream(question_id, seed)


def named_stream(*names: object) -> random.Random:
    """A private random stream named by ``names``: SHA-256 of them, joined by NUL."""
    digest = hashlib.sha256("\x00".join(map(str, names)).encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


def uniform_index(rng: random.Random, count: int) -> int:
    """A whole number from 0 to ``count - 1``, each equally likely, from one ``random()``."""
    if count > _EXACT:  # one float has too few bits to reach every number
        return rng.randrange(count)
    return min(int(rng.random() * count), count - 1)  # min: a product can round up to count


def shuffle(items: list[Any], rng: random.Random) -> None:
    """Fisher-Yates from ``random()`` draws alone: ``rng.shuffle`` may change between Python
    versions, and then so would every seeded order."""
    for i in range(len(items) - 1, 0, -1):
        j = uniform_index(rng, i + 1)
        items[i], items[j] = items[j], items[i]


def sample_param(
    spec: ParamSpec,
    rng: random.Random,
    env: Mapping[str, object],
    formula: Callable[[Mapping[str, object]], object],
) -> Scalar | tuple[Scalar, ...]:
    """Draw one parameter; ``formula`` evaluates an ``expr`` parameter against ``env``."""
    if spec.size is not None:
        count = env[spec.size] if isinstance(spec.size, str) else spec.size
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SIZE:
            raise ValueError(
                f"a list size must be a whole number from 1 to {MAX_SIZE}, not {count!r}"
            )
        if spec.kind == "float":  # the usual list, without a dispatch per number
            return tuple([_float_from(spec, rng.random()) for _ in range(count)])
        return tuple(_draw_one(spec, rng, env, formula) for _ in range(count))
    return _draw_one(spec, rng, env, formula)


def _draw_one(
    spec: ParamSpec,
    rng: random.Random,
    env: Mapping[str, object],
    formula: Callable[[Mapping[str, object]], object],
) -> Scalar:
    if spec.kind == "const":
        return spec.value
    if spec.kind == "choice":
        return spec.choices[uniform_index(rng, len(spec.choices))]
    if spec.kind == "int":
        return _sample_int(spec, rng)
    if spec.kind == "float":
        return _float_from(spec, rng.random())
    return formula(env)  # type: ignore[return-value]


def _sample_int(spec: ParamSpec, rng: random.Random) -> int:
    step = int(spec.step or 1)
    count = int(spec.high - spec.low) // step + 1
    return int(spec.low) + step * uniform_index(rng, count)


def _float_from(spec: ParamSpec, u: float) -> float:
    """The value of a float parameter at quantile ``u`` of its range, rounded as declared."""
    if spec.log:
        low, high = math.log(spec.low), math.log(spec.high)
        value = math.exp(low + u * (high - low))
    else:
        value = spec.low + u * (spec.high - spec.low)
    return min(max(_rounded(spec, value), spec.low), spec.high)


def _rounded(spec: ParamSpec, value: float) -> float:
    if spec.step is not None:
        return spec.low + round((value - spec.low) / spec.step) * spec.step
    if spec.digits is not None:
        return round(value, spec.digits)
    if spec.sig is not None:
        return round_sig(value, spec.sig)
    return value


def round_sig(value: float, sig: int) -> float:
    """Round to ``sig`` significant figures (0 stays 0)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, sig - 1 - math.floor(math.log10(abs(value))))
