"""Gymnasium spaces to and from locus's JSON form of a space (C++ ``Space::to_json``).

``from_json`` builds the Gymnasium space a locus env declares, with the same bounds, dtype and
shape; Gymnasium's spaces sample with the same numpy algorithms that locus reproduces, so a space
seeded the same way samples the same values on both sides. ``to_json`` goes the other way, for
Python environments driven by locus.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from locus.errors import InvalidArgumentError

# The element types a locus Box can have (envs/array.hpp).
SUPPORTED_DTYPES = ("bool", "int8", "uint8", "int16", "int32", "int64", "float32", "float64")


def _bound_value(value: Any) -> float | int:
    if isinstance(value, str):
        if value in ("inf", "+inf"):
            return math.inf
        if value == "-inf":
            return -math.inf
        raise InvalidArgumentError(f"Box bound {value!r}: expected a number, 'inf' or '-inf'")
    return value


def _box_bounds(raw: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    values = [_bound_value(v) for v in raw] if isinstance(raw, list) else [_bound_value(raw)]
    infinite = any(isinstance(v, float) and math.isinf(v) for v in values)
    # Gymnasium reads +-inf as "unbounded" (and turns it into the dtype's limits for signed
    # integers), so infinite bounds of integer boxes travel as float64; every other bound is
    # given in the Box's own dtype, so that Gymnasium has no precision to lower and nothing to warn
    # about.
    array_dtype = np.float64 if infinite and dtype.kind != "f" else dtype
    array = np.array(values, dtype=array_dtype)
    if array.size == 1 and math.prod(shape) != 1:
        return np.full(shape, array.reshape(()), dtype=array_dtype)
    return array.reshape(shape)


def from_json(json: dict[str, Any]) -> spaces.Space:
    """The Gymnasium space of locus's JSON form of a space."""
    kind = json.get("type")
    if kind == "Discrete":
        return spaces.Discrete(int(json["n"]), start=int(json.get("start", 0)))
    if kind == "Box":
        dtype = np.dtype(json.get("dtype", "float32"))
        shape = tuple(int(d) for d in json["shape"])
        low = _box_bounds(json["low"], shape, dtype)
        high = _box_bounds(json["high"], shape, dtype)
        return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)
    if kind == "MultiDiscrete":
        nvec = np.array(json["nvec"], dtype=np.int64)
        start = np.array(json.get("start", [0] * len(nvec)), dtype=np.int64)
        return spaces.MultiDiscrete(nvec, start=start)
    if kind == "MultiBinary":
        shape = [int(d) for d in json["shape"]] if "shape" in json else [int(json["n"])]
        # MultiBinary(4), not MultiBinary([4]): Gymnasium keeps n as given and compares it so.
        return spaces.MultiBinary(shape[0] if len(shape) == 1 else shape)
    if kind == "Tuple":
        return spaces.Tuple([from_json(child) for child in json["spaces"]])
    if kind == "Dict":
        return spaces.Dict({key: from_json(child) for key, child in json["spaces"].items()})
    raise InvalidArgumentError(
        f"unknown space type {kind!r} in {json!r}; "
        "expected Discrete, Box, MultiDiscrete, MultiBinary, Tuple or Dict"
    )


def _json_bounds(values: np.ndarray, bounded: np.ndarray, upper: bool) -> list[Any]:
    out: list[Any] = []
    for value, is_bounded in zip(values.reshape(-1).tolist(), bounded.reshape(-1).tolist()):
        if not is_bounded or (isinstance(value, float) and math.isinf(value)):
            out.append("inf" if upper else "-inf")
        else:
            # Python ints stay exact (an int64 bound above 2**53 would not survive a float).
            out.append(int(value) if not isinstance(value, float) else value)
    return out


def to_json(space: spaces.Space) -> dict[str, Any]:
    """locus's JSON form of a Gymnasium space; raises InvalidArgumentError for a space locus lacks."""
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        if space.dtype.name not in SUPPORTED_DTYPES:
            raise InvalidArgumentError(
                f"{space}: locus has no Box of dtype {space.dtype}; "
                f"supported: {', '.join(SUPPORTED_DTYPES)}"
            )
        # Gymnasium stores the unbounded sides of a signed integer Box as the dtype's limits and
        # remembers them in bounded_below / bounded_above; locus reads "inf" the same way.
        return {
            "type": "Box",
            "low": _json_bounds(space.low, space.bounded_below, upper=False),
            "high": _json_bounds(space.high, space.bounded_above, upper=True),
            "shape": list(space.shape),
            "dtype": space.dtype.name,
        }
    if isinstance(space, spaces.MultiDiscrete):
        if space.nvec.ndim != 1:
            raise InvalidArgumentError(
                f"{space}: locus's MultiDiscrete is one-dimensional, got nvec of shape "
                f"{space.nvec.shape}"
            )
        return {
            "type": "MultiDiscrete",
            "nvec": [int(n) for n in space.nvec],
            "start": [int(s) for s in space.start],
        }
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "shape": [int(d) for d in np.atleast_1d(space.n)]}
    if isinstance(space, spaces.Tuple):
        return {"type": "Tuple", "spaces": [to_json(child) for child in space.spaces]}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {key: to_json(child) for key, child in space.items()}}
    raise InvalidArgumentError(
        f"locus cannot drive a {type(space).__name__} space ({space}); "
        "supported: Discrete, Box, MultiDiscrete, MultiBinary, Tuple, Dict"
    )


__all__ = ["SUPPORTED_DTYPES", "from_json", "to_json"]
