"""Compiled ADVI engines kept on disk, so that a new process loads one instead of building it.

Building an engine (the PyMC model, PyTensor's graph rewrites, linking the compiled code)
costs seconds in every new process even when PyTensor's compile cache already holds the
compiled code: a notebook restart, each worker of a parallel search. The engine's compiled
function and its shared variables pickle, so the first process that builds an engine for a
:class:`~bnn_sklearn._network.GraphKey` writes it next to PyTensor's compile cache and
later processes load it.

A file is used only by the same versions of Python, NumPy, SciPy, PyTensor and PyMC, the
same PyTensor settings and the same source of the modules that build the graph; anything
else builds anew. The files live in PyTensor's ``compiledir``, beside the compiled code
that PyTensor itself loads from there, and are trusted as that code is. Set the environment
variable ``BNN_SKLEARN_ENGINE_CACHE=0`` to build every engine in the process instead.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: Bump when the pickled state's layout changes.
FORMAT = 1
#: Environment variable: "0" builds every engine in the process.
ENVIRONMENT_VARIABLE = "BNN_SKLEARN_ENGINE_CACHE"
#: Modules whose source shapes the engine's graph or its pickled state.
GRAPH_MODULES = ("_engine_cache", "_families", "_inference", "_likelihoods", "_network")
PACKAGES = ("numpy", "scipy", "pytensor", "pymc")


def cache_enabled() -> bool:
    return os.environ.get(ENVIRONMENT_VARIABLE, "1").strip().lower() not in ("0", "false", "no")


def cache_folder() -> Path:
    """Where engines are kept: a folder of PyTensor's compile cache."""
    import pytensor

    return Path(pytensor.config.compiledir) / "bnn_sklearn_engines"


def engine_path(key, blas: bool = True) -> Path:
    """The file of the engine for ``key`` under today's versions, settings and source.

    ``blas=False`` leaves PyTensor's BLAS flags out, for an engine whose compiled code does
    not link BLAS through them (Numba's); reading them detects BLAS, which is slow.
    """
    flags = ("mode", "linker", "floatX") + (("blas__ldflags",) if blas else ())
    digest = cache_digest(
        (FORMAT, repr(key)), packages=PACKAGES, flags=flags, modules=GRAPH_MODULES
    )
    name = f"{key.depth}-{key.activation}-{key.method}-{key.likelihood}-{digest}"
    return cache_folder() / f"{name}.pkl"


def cache_digest(key, *, packages, flags, modules) -> str:
    """A digest of ``key`` (a tuple) under today's Python, machine, versions of
    ``packages``, PyTensor's settings ``flags`` and C compiler, and the source of this
    package's ``modules``: what names a file of compiled code in the cache."""
    import pytensor

    config = pytensor.config
    digest = hashlib.sha256()
    for part in (
        *key,
        sys.version,
        platform.machine(),
        *(f"{name}={_version(name)}" for name in packages),
        *(f"{flag}={getattr(config, flag)}" for flag in flags),
        config.cxx,
    ):
        digest.update(str(part).encode() + b"\0")
    package = Path(__file__).parent
    for module in modules:
        digest.update((package / f"{module}.py").read_bytes())
    return digest.hexdigest()[:24]


def cached_engine(arch, build, blas: bool = True):
    """The engine for ``arch``: loaded from the cache, else ``build(arch)`` stored and
    loaded back (so that every process runs a loaded engine, whose code a backend that
    compiles at the first call, such as Numba, then compiles and caches once).
    ``blas``: whether PyTensor's BLAS flags shape the engine (see :func:`engine_path`)."""
    if not cache_enabled():
        return build(arch)
    path = engine_path(arch.graph_key, blas=blas)
    engine = _load(path)
    if engine is not None:
        return engine
    engine = build(arch)
    try:
        blob = pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return engine  # an engine that does not pickle still fits; it is not kept
    _store(path, blob)
    return pickle.loads(blob)


def _load(path: Path):
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        return pickle.loads(blob)
    except Exception:  # a damaged or foreign file: build anew and replace it
        path.unlink(missing_ok=True)
        return None


def _store(path: Path, blob: bytes) -> None:
    """Write ``blob`` whole or not at all (parallel workers may store the same engine)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as file:
            file.write(blob)
        os.replace(file.name, path)
    except OSError:
        pass  # a read-only or full cache: the engine still fits, it is just not kept


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "none"
