"""Sharded safetensors checkpoints as Hugging Face writes them: shard files, their index, resume.

Tensors are grouped into ``model-0000k-of-0000n.safetensors`` files exactly as
``huggingface_hub`` groups them (:func:`shard_names`), listed in
``model.safetensors.index.json``; the folder is completed under a hidden
name beside the target (resumable: a plan file records what it is for) and
renamed onto it once every file is complete and synced. Shard files may be
written by ``dask.distributed`` workers in parallel.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import _files, _folders, _resume
from ._errors import InvalidArgumentError, VarscaleError
from ._files import atomic_output, check_space, check_target
from ._provenance import PROVENANCE_KEY, dumps, for_file, make_record
from ._regions import Progress, check_chunk_elems, check_progress
from ._safetensors import (
    INDEX_NAME,
    check_metadata,
    check_tensors,
    safetensors_header,
    st_order,
)
from ._sources import Counter, Source, describe, write_sources
from ._verify import compare
from ._workers import worker_threads

__all__ = [
    "INDEX_NAME",
    "MAX_SHARD_SIZE",
    "check_dir_target",
    "parse_size",
    "shard_names",
    "write_safetensors_sharded",
]

#: Hugging Face's default shard size (``huggingface_hub`` / ``transformers``: decimal gigabytes)
MAX_SHARD_SIZE = "5GB"
SIZE_UNITS = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "B": 1}


def parse_size(value: Any, argument: str = "max_shard_size") -> int:
    """Bytes from an int or a size string: ``"5GB"`` (10⁹, as Hugging Face reads it), ``"2GiB"``, ``"500MB"``, ``"1024"``.

    Example:
        >>> parse_size("5GB"), parse_size("1.5GiB"), parse_size(4096)
        (5000000000, 1610612736, 4096)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str):
        text = value.strip().upper().replace(" ", "")
        unit = next((u for u in sorted(SIZE_UNITS, key=len, reverse=True) if text.endswith(u)), "")
        number = text[: len(text) - len(unit)] if unit else text
        try:
            n = int(float(number) * SIZE_UNITS.get(unit, 1))
        except (ValueError, OverflowError):
            n = 0
            if not unit or not number:
                raise InvalidArgumentError(
                    f"`{argument}` must be a positive number of bytes, or a size such as '5GB' (KB, MB, GB, TB: "
                    f"powers of 10 as Hugging Face reads them; KiB, MiB, GiB, TiB: powers of 2); received "
                    f"{argument}={value!r}."
                ) from None
    else:
        raise TypeError(f"`{argument}` must be an int or a size string such as '5GB'; received {argument}={value!r}.")
    if n < 1:
        raise InvalidArgumentError(
            f"`{argument}` must be a positive number of bytes, or a size such as '5GB' (KB, MB, GB, TB: powers of "
            f"10 as Hugging Face reads them; KiB, MiB, GiB, TiB: powers of 2); received {argument}={value!r}."
        )
    return n


def shard_names(sizes: Sequence[tuple[str, int]], max_shard_size: Any = MAX_SHARD_SIZE) -> dict[str, list[str]]:
    """Group tensors into files exactly as Hugging Face does (``split_state_dict_into_shards_factory``).

    ``sizes`` is ``[(name, bytes)]`` in the state dict's order. Tensors are
    taken in that order; a tensor larger than ``max_shard_size`` gets a file
    of its own; otherwise a new file starts when the next tensor would make the
    current one exceed the limit. One file is ``model.safetensors``; several
    are ``model-0000k-of-0000n.safetensors``. Returns ``{file name: [tensor names]}``.

    Example:
        >>> shard_names([("a", 6), ("b", 6), ("c", 2), ("d", 6), ("e", 2), ("f", 2)], 10)
        {'model-00001-of-00003.safetensors': ['a'], 'model-00002-of-00003.safetensors': ['b', 'c'], \
'model-00003-of-00003.safetensors': ['d', 'e', 'f']}
    """
    limit = parse_size(max_shard_size)
    shards: list[list[str]] = []
    current: list[str] = []
    size = 0
    for name, nbytes in sizes:
        if nbytes > limit:
            shards.append([name])
            continue
        if size + nbytes > limit:
            shards.append(current)
            current, size = [], 0
        current.append(name)
        size += nbytes
    if current:
        shards.append(current)
    if len(shards) <= 1:
        return {"model.safetensors": shards[0] if shards else []}
    n = len(shards)
    return {f"model-{i + 1:05d}-of-{n:05d}.safetensors": names for i, names in enumerate(shards)}


def index_bytes(files: Mapping[str, Sequence[Source]], record: Mapping[str, Any]) -> bytes:
    """``model.safetensors.index.json`` as ``transformers``' ``save_pretrained`` writes it (sorted keys, indent 2)."""
    weight_map = {s.name: fname for fname, group in files.items() for s in group}
    total_size = sum(s.size * s.dtype.itemsize for group in files.values() for s in group)
    total_parameters = sum(s.size for group in files.values() for s in group)
    index = {"metadata": {"total_parameters": total_parameters, "total_size": total_size, PROVENANCE_KEY: record},
             "weight_map": weight_map}
    return (json.dumps(index, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def is_checkpoint_dir(path: Path) -> bool:
    """A folder (not a link) holding only safetensors files and their index at its top: what ``force`` may replace."""
    try:
        if not path.is_dir() or path.is_symlink():
            return False
        names = os.listdir(path)
    except OSError:
        return False
    has = not names or any(n == INDEX_NAME or n == "model.safetensors" for n in names)  # or empty
    return has and all(
        (n.endswith(".safetensors") or n == INDEX_NAME) and (path / n).is_file() and not (path / n).is_symlink()
        for n in names
    )


def checkpoint_refusal(path: Path) -> str | None:
    why = _files.replace_refusal(path, "file")
    if why is None or is_checkpoint_dir(path):
        return None
    if path.is_dir():
        return (f"a folder that is not a safetensors checkpoint (it must hold only *.safetensors files and "
                f"{INDEX_NAME} or model.safetensors)")
    return why


def check_dir_target(path: Any, force: bool, argument: str = "directory") -> Path:
    try:
        return check_target(path, False, argument)
    except _files.OutputExistsError:
        if not force:
            raise
    target = Path(path)
    why = checkpoint_refusal(target)
    if why is not None:
        raise InvalidArgumentError(
            f"`{argument}` names {why}; received {argument}={os.fspath(path)!r}. force=True (--force) replaces "
            f"only a file or a safetensors checkpoint folder; nothing was deleted."
        )
    return target


class Shard:
    def __init__(self, name: str, sources: list[Source], meta: dict[str, str]) -> None:
        self.name = name
        self.sources = st_order(sources)
        self.header = safetensors_header(self.sources, meta)
        self.nbytes = len(self.header) + sum(s.size * s.dtype.itemsize for s in self.sources)
        self.elems = sum(s.size for s in self.sources)


def resume_plan(shards: Sequence[Shard], index: bytes | None) -> str:
    return dumps({"kind": "varscale sharded safetensors", "version": 1,
                   "files": {s.name: hashlib.sha256(s.header).hexdigest() for s in shards},
                   "index": None if index is None else hashlib.sha256(index).hexdigest()})


def shard_ok(path: Path, shard: Shard, sample: int) -> bool:
    """A finished shard file is kept on resume if its size and header are the expected ones and sampled regions match."""
    try:
        if path.stat().st_size != shard.nbytes:
            return False
        with open(path, "rb") as fh:
            if fh.read(len(shard.header)) != shard.header:
                return False
            offset = len(shard.header)
            for s in shard.sources:
                if next(compare(fh, offset, s.shape, s.dtype, s.block, sample), None) is not None:
                    return False
                offset += s.size * s.dtype.itemsize
    except OSError:
        return False
    return True


def write_safetensors_sharded(
    directory: str | os.PathLike[str],
    tensors: Mapping[str, tuple[Any, Any, Any]],
    *,
    max_shard_size: int | str = MAX_SHARD_SIZE,
    force: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
    metadata: Mapping[str, str] | None = None,
    provenance: Mapping[str, Any] | None = None,
    chunk_elems: int = 1 << 24,
    client: Any = None,
    engine: str | None = None,
) -> Path:
    """Write a sharded safetensors checkpoint folder as Hugging Face writes it: shard files and their index.

    Tensors are grouped into files exactly as ``huggingface_hub``'s
    ``split_torch_state_dict_into_shards`` (and so ``transformers``'
    ``save_pretrained``) groups them: in ``tensors``' order, a new file when
    the next tensor would pass ``max_shard_size`` bytes, a tensor larger than
    that alone in its file. Several files are named
    ``model-0000k-of-0000n.safetensors`` and listed in
    ``model.safetensors.index.json`` (``{"metadata": {"total_parameters",
    "total_size", "varscale"}, "weight_map": {tensor: file}}``, sorted keys,
    indent 2, as ``save_pretrained`` writes it); one file is
    ``model.safetensors`` without an index. Inside each file tensors are laid
    out as the safetensors library lays them out, and its ``__metadata__``
    holds ``{"format": "pt", "varscale": <JSON record>}``: varscale's and the
    stream's versions, ``provenance``'s fields (the CLI records the seed,
    layout and each tensor's rule) and each tensor's entry, what
    :func:`verify` re-draws from.

    The folder is written under a hidden name beside the target
    (``.<name>.<random>.partial``), each shard file atomically inside it, and
    renamed onto ``directory`` once every file is complete and synced (an
    existing target is refused unless ``force=True``, which replaces only a
    file or a safetensors checkpoint folder). An interruption
    (``KeyboardInterrupt``, the CLI's SIGTERM) or a killed process keeps the
    finished shard files in that hidden folder; ``resume=True`` finds it,
    checks each finished file (size, header, sampled regions re-drawn) and
    writes only the others: the result is byte for byte that of an
    uninterrupted run. Any other error removes the hidden folder.

    Args:
        directory: the target folder (its parent must exist).
        tensors: ``name -> (source, shape, dtype)`` as for :func:`write_safetensors`.
        max_shard_size: bytes per file, an int or ``"5GB"``-style text
            (KB/MB/GB/TB are powers of 10 as in Hugging Face; KiB/MiB/GiB/TiB powers of 2).
        force: replace an existing file or safetensors checkpoint folder.
        resume: continue an interrupted write of the same tensors (no unfinished folder: start afresh;
            the finished checkpoint already at ``directory``: nothing to do, so a requeued job succeeds).
        progress: ``progress(done, total)`` in elements over all tensors.
        metadata: extra ``str -> str`` pairs for every file's ``__metadata__``.
        provenance: fields for the record (``seed``, ``layout``, ``tensors: {name: entry}``).
        chunk_elems: elements per region drawn.
        client: a ``dask.distributed.Client``: each shard file is drawn and
            written by one task on the cluster's workers, in parallel (the
            folder must be on a file system every worker shares; sources
            must be initializers or plans, not arrays). Each task draws on as
            many threads as its worker has. None: this process writes the files.
        engine: ``"numba"`` or ``"numpy"`` draws every region (None: the
            default engine); the bits are the same on every engine.

    Returns:
        The target folder.

    Example:
        >>> import json, tempfile, pathlib
        >>> import varscale as vs
        >>> from varscale.io import write_safetensors_sharded
        >>> tensors = {f"layer{i}.weight": (vs.HeNormal(seed=vs.derive_stream(0, f"layer{i}.weight")), (64, 64), None)
        ...            for i in range(3)}
        >>> d = write_safetensors_sharded(pathlib.Path(tempfile.mkdtemp()) / "ckpt", tensors, max_shard_size="40KB")
        >>> sorted(p.name for p in d.iterdir())
        ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']
        >>> json.loads((d / "model.safetensors.index.json").read_text())["weight_map"]["layer2.weight"]
        'model-00002-of-00002.safetensors'
    """
    done_already = False
    try:
        target = check_dir_target(directory, force)
    except _files.OutputExistsError:
        if not resume:
            raise
        target, done_already = Path(directory), True
    sources = check_tensors(tensors, engine)
    meta = check_metadata(metadata)
    limit = parse_size(max_shard_size)
    step = check_chunk_elems(chunk_elems)
    report = check_progress(progress)
    record = make_record(sources, {} if provenance is None else provenance)
    by_name = {s.name: s for s in sources}
    groups = shard_names([(s.name, s.size * s.dtype.itemsize) for s in sources], limit)
    shards = []
    for fname, names in groups.items():
        file_meta = {"format": "pt", **(meta or {}), PROVENANCE_KEY: dumps(for_file(record, names))}
        shards.append(Shard(fname, [by_name[n] for n in names], file_meta))
    index = index_bytes({s.name: s.sources for s in shards}, record) if len(shards) > 1 else None
    plan_text = resume_plan(shards, index)
    if done_already:  # resume=True after a run that finished: the same checkpoint is there, nothing to do
        if not is_complete(target, shards, index):
            raise _files.OutputExistsError(
                f"`directory` names an existing folder that is not the checkpoint these arguments make (nothing to "
                f"resume); received directory={os.fspath(directory)!r}. Pass force=True (--force) to overwrite it."
            )
        if report is not None:
            total = sum(s.elems for s in shards)
            report(total, total)
        return target
    tmp = _resume.find(target, plan_text, "tensors, shapes, dtypes, rules, seed or max_shard_size") if resume \
        else None
    needed = sum(s.nbytes for s in shards) + (len(index) if index is not None else 0)
    if tmp is not None:
        needed -= sum(s.nbytes for s in shards if (tmp / s.name).is_file())
    check_space(target, max(0, needed), describe(sources))
    fresh = tmp is None
    if tmp is None:
        tmp = _resume.start(target, plan_text)
    try:
        with _resume.locked(tmp / _resume.PLAN):
            _resume.sweep(tmp)  # a killed writer's half-written shard
            total = sum(s.elems for s in shards)
            counter = Counter(total, report)
            todo = []
            for s in shards:
                if not fresh and (tmp / s.name).is_file() and shard_ok(tmp / s.name, s, 4):
                    counter.done += s.elems
                else:
                    _folders.remove(tmp / s.name)
                    todo.append(s)
            if counter.done and report is not None:
                report(counter.done, total)
            if client is not None:
                write_on_cluster(client, tmp, todo, step, counter)
            for s in todo if client is None else []:
                with atomic_output(tmp / s.name) as fh:
                    fh.write(s.header)
                    write_sources(fh, s.sources, step, counter)
            if index is not None:
                with atomic_output(tmp / INDEX_NAME, force=True) as fh:
                    fh.write(index)
            _folders.fsync_tree(tmp)
            os.unlink(tmp / _resume.PLAN)  # from here on the folder is no longer resumable: it is being published
            _folders.install_dir(tmp, target, force, checkpoint_refusal)
    except KeyboardInterrupt as err:
        if not _resume.keep(err, tmp, sum((tmp / s.name).is_file() for s in shards), len(shards), "shard file(s)"):
            _folders.remove(tmp)
        raise
    except BaseException as err:
        if not isinstance(err, _resume.BusyError):
            _folders.remove(tmp)
        if isinstance(err, OSError) and not isinstance(err, VarscaleError):
            raise _files.write_error(target, err, tmp) from err
        raise
    return target


def shard_task(path: str, header: bytes, sources: list[Source], step: int) -> int:
    """One shard file written on a Dask worker (drawing on its share of the worker's threads)."""
    with worker_threads(), atomic_output(Path(path)) as fh:
        fh.write(header)
        write_sources(fh, sources, step, Counter(0, None))
    return sum(s.size for s in sources)


def write_on_cluster(client: Any, tmp: Path, todo: Sequence[Shard], step: int, counter: Counter) -> int:
    """Submit one task per shard file, largest first; returns the number written. Interrupted: cancels the rest."""
    for s in todo:
        for src in s.sources:
            if src.array is not None:
                raise InvalidArgumentError(
                    f"tensor {src.name!r}: with a Dask client every tensor must come from an initializer or a "
                    f"rule (drawn on the workers); received an array."
                )
    futures = [client.submit(shard_task, str(tmp / s.name), s.header, s.sources, step, pure=False,
                             key=f"varscale-shard-{s.name}-{os.getpid()}-{id(s)}")
               for s in sorted(todo, key=lambda s: -s.nbytes)]
    written = 0
    pending = list(futures)
    try:
        # polled, not waited on through the client's event loop: a SIGTERM or Ctrl-C then lands in a sleep, not
        # inside distributed's sync(), whose cancel callback can fail when interrupted and log a traceback
        while pending:
            done = [f for f in pending if f.done()]
            for fut in done:
                counter.add(fut.result())
                written += 1
            finished = {id(f) for f in done}
            pending = [f for f in pending if id(f) not in finished]
            if pending and not done:
                time.sleep(0.02)
    except BaseException:
        client.cancel(futures)
        raise
    return written


def is_complete(target: Path, shards: Sequence[Shard], index: bytes | None) -> bool:
    """``target`` holds exactly these shard files (size and header) and this index: a finished run's output."""
    try:
        names = set(os.listdir(target))
        want = {s.name for s in shards} | ({INDEX_NAME} if index is not None else set())
        if names != want or (index is not None and (target / INDEX_NAME).read_bytes() != index):
            return False
        for s in shards:
            if (target / s.name).stat().st_size != s.nbytes:
                return False
            with open(target / s.name, "rb") as fh:
                if fh.read(len(s.header)) != s.header:
                    return False
    except OSError:
        return False
    return True
