"""Seeded parameter sampling: (question id, seed) always gives the same numbers.

The stream is a PCG64 generator fed by a SeedSequence made from a SHA-256 digest of the
question id and the seed, never ``hash()`` (which changes between runs) and never the global
NumPy state.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping

import numpy as np

from tutor.bankspec import ParamSpec, Scalar

MAX_SIZE = 200


def rng_for(question_id: str, seed: int) -> np.random.Generator:
    """The random stream that names a variant."""
    digest = hashlib.sha256(f"{question_id}\x00{seed}".encode()).digest()
    # The first 16 bytes as a big-endian number, handed over as its four 32-bit words (least
    # significant first): the same entropy as the int, without SeedSequence's slow int path.
    words = np.frombuffer(digest[15::-1], dtype="<u4")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def sample_param(
    spec: ParamSpec,
    rng: np.random.Generator,
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
        if spec.kind == "float":  # one call for the whole list: the same numbers, drawn faster
            return tuple(_float_from(spec, u) for u in rng.random(count).tolist())
        return tuple(_draw_one(spec, rng, env, formula) for _ in range(count))
    return _draw_one(spec, rng, env, formula)


def _draw_one(
    spec: ParamSpec,
    rng: np.random.Generator,
    env: Mapping[str, object],
    formula: Callable[[Mapping[str, object]], object],
) -> Scalar:
    if spec.kind == "const":
        return spec.value
    if spec.kind == "choice":
        return spec.choices[int(rng.integers(len(spec.choices)))]
    if spec.kind == "int":
        return _sample_int(spec, rng)
    if spec.kind == "float":
        return _float_from(spec, float(rng.random()))
    return formula(env)  # type: ignore[return-value]


def _sample_int(spec: ParamSpec, rng: np.random.Generator) -> int:
    step = int(spec.step or 1)
    count = int(spec.high - spec.low) // step + 1
    return int(spec.low) + step * int(rng.integers(count))


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
