"""Provenance: what made a file, recorded in it so that it can be re-drawn and verified from the file alone.

The record (a JSON object) holds varscale's version, the stream version, the
caller's fields (the CLI records the seed, layout and rules) and, per tensor,
how to re-draw it: an initializer's config and stream, or a rule's text.
safetensors files keep it as the ``__metadata__`` string ``"varscale"``, the
sharded index in ``metadata.varscale``, Zarr stores as the attribute
``"varscale"``.

Example:
    >>> import varscale as vs
    >>> from varscale._sources import Source
    >>> rec = make_record([Source("w", vs.HeNormal(seed=1), (4, 4), None)], {"seed": 1})
    >>> sorted(rec), rec["tensors"]["w"]["stream"]
    (['seed', 'stream_version', 'tensors', 'varscale_version'], [1, 0])
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._generate import draw
from ._initializer import VarianceScaling
from ._sources import Source, short

__all__ = ["PROVENANCE_KEY", "dumps", "entry_of", "for_file", "load_record", "make_record", "redraw"]

#: the ``__metadata__`` key (safetensors), index ``metadata`` key and Zarr attribute holding varscale's record
PROVENANCE_KEY = "varscale"


def dumps(obj: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, no NaN): the same record gives the same text."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)


def entry_of(src: Source) -> dict[str, Any]:
    """What :func:`verify` needs to re-draw one tensor, as far as the source itself says."""
    if src.init is not None:
        from ._registry import serialize

        cfg = serialize(src.init)
        cfg["config"] = dict(cfg["config"], seed=None)
        return {"initializer": cfg, "stream": [src.stream.seed, src.stream.stream]}
    if src.bound is not None:
        return {"label": str(src.bound.plan.label)}  # a plan without its rule text cannot be re-drawn
    return {"source": "array"}


def make_record(sources: Sequence[Source], given: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance record of ``sources``: varscale's and the stream's versions, ``given``'s fields, each tensor's entry."""
    from . import __version__
    from .stream import STREAM_VERSION

    if not isinstance(given, Mapping):
        raise TypeError(f"`provenance` must be None, True or a mapping; received provenance={short(given)}.")
    own = given.get("tensors", {})
    if not isinstance(own, Mapping):
        raise TypeError(f"`provenance['tensors']` must be a mapping name -> entry; received {short(own)}.")
    record: dict[str, Any] = {k: v for k, v in given.items() if k != "tensors"}
    record.update(varscale_version=__version__, stream_version=STREAM_VERSION)
    record["tensors"] = {s.name: dict(own[s.name]) if s.name in own else entry_of(s) for s in sources}
    try:
        dumps(record)
    except (TypeError, ValueError) as err:
        raise TypeError(f"`provenance` must be JSON-serializable (str keys, finite numbers): {err}.") from None
    return record


def for_file(record: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """``record`` with only the tensors ``names`` (one shard file's share)."""
    out = dict(record)
    out["tensors"] = {n: record["tensors"][n] for n in sorted(names)}
    return out


# -- sharded safetensors, as Hugging Face writes them ----------------------------------------------------------


def load_record(raw: Any, where: str) -> Mapping[str, Any] | str:
    """The record stored as ``raw`` (JSON text or a mapping), or why it cannot be used."""
    if raw is None:
        return f"{where} has no varscale record (it was not written by varscale with provenance)"
    try:
        rec = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError):
        return f"{where} has a varscale record that is not JSON"
    if not isinstance(rec, Mapping) or not isinstance(rec.get("tensors"), Mapping):
        return f"{where} has a varscale record without tensors"
    from .stream import STREAM_VERSION

    if rec.get("stream_version") != STREAM_VERSION:
        return (f"{where} was drawn with stream version {rec.get('stream_version')!r}; this varscale draws "
                f"version {STREAM_VERSION}")
    return rec


def redraw(name: str, entry: Any, record: Mapping[str, Any], shape: tuple[int, ...],
            dtype: np.dtype[Any]) -> Callable[[tuple[slice, ...]], np.ndarray[Any, Any]] | str:
    """A function drawing regions of tensor ``name`` from its record entry, or why it cannot be re-drawn."""
    from .stream import Stream, derive_stream

    if not isinstance(entry, Mapping):
        return "no record for this tensor"
    if "rule" in entry and isinstance(entry["rule"], str):
        from ._forms import rule_from_text
        from ._rules import BoundPlan, plan_param, resolve

        seed = record.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int):
            return "the record has no integer seed"
        init = resolve(rule_from_text(entry["rule"]), layout=str(entry.get("layout") or "tf"),
                       where=f"recorded rule {entry['rule']!r}")
        bound = BoundPlan(plan_param(init, shape, str(entry.get("fans") or "tf")), derive_stream(seed, name))
        return lambda region: bound.block(shape, dtype, region)
    if "initializer" in entry and "stream" in entry:
        from ._registry import deserialize

        init = deserialize(entry["initializer"])
        stream = Stream(*(int(x) for x in entry["stream"]))
        if not isinstance(init, VarianceScaling):
            return f"recorded initializer {type(init).__name__} is not re-drawn by verify"
        sampler = init.sampler(shape)
        return lambda region: draw(shape, dtype, sampler, stream, region=region)
    if entry.get("source") == "array":
        return "written from an array (nothing to re-draw)"
    return "the record does not say how to re-draw it"
