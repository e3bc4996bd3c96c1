"""UUID-formatted ids and opaque tokens, generated column-wise from seeded randomness.

Strings are assembled as fixed-width byte matrices and handed to Arrow without a Python loop:
at ten million events a per-id ``uuid.UUID`` would cost more than the rest of the simulation.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), dtype=np.uint8).reshape(
    256, 2
)
_DASHES = (8, 13, 18, 23)
_UUID_SLOTS = np.array([i for i in range(36) if i not in _DASHES])
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def strings_from_matrix(mat: np.ndarray) -> pl.Series:
    """A (n, width) uint8 ASCII matrix as a polars String series, zero-copy through Arrow."""
    n, width = mat.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    data = np.ascontiguousarray(mat).tobytes()
    arr = pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))
    return pl.Series(pl.from_arrow(arr))


def _uuid_text(raw: np.ndarray) -> pl.Series:
    raw = raw.copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexed = _HEX[raw].reshape(raw.shape[0], 32)
    out = np.full((raw.shape[0], 36), ord("-"), dtype=np.uint8)
    out[:, _UUID_SLOTS] = hexed
    return strings_from_matrix(out)


def random_uuids(rng: np.random.Generator, n: int) -> pl.Series:
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16)
    return _uuid_text(raw)


def mix64(keys: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 finaliser: a stateless hash so that an id can be re-derived from its key."""
    with np.errstate(over="ignore"):
        z = (keys.astype(np.uint64) + np.uint64(salt & 0xFFFFFFFFFFFFFFFF)) * np.uint64(
            0x9E3779B97F4A7C15
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _hash_bytes(keys: np.ndarray, salt: int, *, nbytes: int) -> np.ndarray:
    words = (nbytes + 7) // 8
    cols = [mix64(keys, salt * 7919 + w * 104729 + 1) for w in range(words)]
    mat = np.stack(cols, axis=1).astype("<u8").view(np.uint8).reshape(keys.size, words * 8)
    return mat[:, :nbytes]


def hashed_uuids(keys: np.ndarray, salt: int) -> pl.Series:
    """The same key and salt always give the same UUID (e.g. one conversation per user pair)."""
    return _uuid_text(_hash_bytes(np.asarray(keys, dtype=np.int64), salt, nbytes=16))


def tokens(prefix: str, keys: np.ndarray, *, salt: int, nbytes: int = 8) -> pl.Series:
    """``<prefix><hex>`` tokens (device ids, payment methods, bank accounts) derived from keys."""
    keys = np.asarray(keys, dtype=np.int64)
    hexed = _HEX[_hash_bytes(keys, salt, nbytes=nbytes)].reshape(keys.size, 2 * nbytes)
    head = np.broadcast_to(np.frombuffer(prefix.encode(), dtype=np.uint8), (keys.size, len(prefix)))
    return strings_from_matrix(np.concatenate([head, hexed], axis=1))


def pair_key(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """An order-free key for an unordered pair of user indices."""
    lo = np.minimum(a, b).astype(np.int64)
    hi = np.maximum(a, b).astype(np.int64)
    return (lo << np.int64(32)) | hi


def directed_key(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.asarray(a, dtype=np.int64) << np.int64(32)) | np.asarray(b, dtype=np.int64)
