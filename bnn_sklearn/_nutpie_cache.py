"""nutpie's compiled model of a network, kept on disk, so that a new process loads it.

nutpie samples through two C callbacks (``numba.cfunc``) around PyTensor's compiled log
density and gradient (and the function that expands a draw for the trace). Its own
callbacks close over the model's data and name their record's fields at random, so Numba
cannot cache them, and every new process spends seconds compiling them again. Here the
callbacks are the functions of a small Python module written for the network: the
shared variables' values come from the record nutpie passes (fields named after the
variables), PyTensor's compiled functions are the module's globals, and Numba compiles
them with ``cache=True``. A later process imports the module, Numba loads the callbacks'
machine code, and neither PyTensor's graph rewrites nor Numba's compiler run again.

The module's file is named by a digest of the architecture, the versions of Python and
the libraries, PyTensor's settings and the source of the modules that build the graph
(:func:`~bnn_sklearn._engine_cache.cache_digest`): any change writes a new one. The files
live beside the ADVI engines in PyTensor's ``compiledir``. Without a writable cache
(or with ``BNN_SKLEARN_ENGINE_CACHE=0``) the model is compiled by
``nutpie.compile_pymc_model`` as nutpie ships it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from ._engine_cache import cache_digest, cache_enabled, cache_folder

#: Bump when the written module's layout changes.
FORMAT = 1
#: Modules whose source shapes the sampled graph or the written module.
GRAPH_MODULES = ("_likelihoods", "_mixture", "_network", "_nutpie_cache")
PACKAGES = ("numpy", "scipy", "pytensor", "pymc", "numba", "nutpie")
FLAGS = ("mode", "linker", "floatX", "numba__fastmath")
_LOCK = threading.Lock()


def compile_network(network, arch, folder: Path | None = None):
    """nutpie's compiled model of ``network`` (the PyMC model built for ``arch``).

    Loaded from ``folder`` (default: :func:`model_folder`) when an earlier process
    compiled it, else compiled and kept there. Returns the model and how it was made:
    ``"loaded"``, ``"compiled"`` (and kept) or ``"nutpie"`` (by nutpie, not kept).
    """
    import nutpie

    if cache_enabled():
        path = model_path(arch, folder)
        try:
            with _LOCK:  # one module object per file in the process
                model = _load(network, path)
                if model is not None:
                    return model, "loaded"
                model = _compile(network, path)
                if model is not None:
                    return model, "compiled"
        except OSError:
            pass  # a read-only or full cache: nutpie compiles it, as it ships
    return nutpie.compile_pymc_model(network.model), "nutpie"


def model_folder() -> Path:
    """Where the modules are kept: beside the ADVI engines in PyTensor's compile cache."""
    return cache_folder() / "nutpie"


def model_path(arch, folder: Path | None = None) -> Path:
    """The module file of ``arch``'s compiled model under today's versions and source."""
    digest = cache_digest(
        (FORMAT, repr(arch)), packages=PACKAGES, flags=FLAGS, modules=GRAPH_MODULES
    )
    return (folder if folder is not None else model_folder()) / f"nutpie_{digest}.py"


# -- the written module -------------------------------------------------------------------


def record_dtype(shared: dict[str, tuple[str, int]]) -> np.dtype:
    """The record nutpie passes to the callbacks: each shared variable's address, size and
    shape, in fields named after it (the layout of ``nutpie.compile_pymc.make_user_data``).
    ``shared`` maps the names to ``(dtype, ndim)``."""
    names = list(shared)
    return np.dtype(
        [
            (
                "shared",
                [
                    ("data", [(name, np.uintp) for name in names]),
                    ("size", [(name, np.uintp) for name in names]),
                    ("shape", [(name, np.uint, (ndim,)) for name, (_, ndim) in shared.items()]),
                ],
            )
        ]
    )


def _address_as_void_pointer():
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def address_as_void_pointer(typingctx, src):
        """A void pointer to the memory address ``src`` (an integer)."""

        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], cgutils.voidptr_t)

        return types.voidptr(src), codegen

    return address_as_void_pointer


ADDRESS_AS_VOID_POINTER = None


def address_as_void_pointer():
    """The Numba intrinsic the written modules read their data through (made once)."""
    global ADDRESS_AS_VOID_POINTER
    if ADDRESS_AS_VOID_POINTER is None:
        ADDRESS_AS_VOID_POINTER = _address_as_void_pointer()
    return ADDRESS_AS_VOID_POINTER


_HEADER = '''\
"""nutpie's callbacks for one network, written by bnn_sklearn._nutpie_cache."""

import numba
import numpy as np

from bnn_sklearn._nutpie_cache import address_as_void_pointer, record_dtype

N_DIM = {n_dim}
N_EXPANDED = {n_expanded}
#: The trace's variables: names, (start, stop) in the expanded vector, shapes.
NAMES = {names!r}
SLICES = {slices!r}
SHAPES = {shapes!r}
#: The shared variables: name -> (dtype, ndim), in the record's order.
SHARED = {shared!r}
#: The shared variables each function takes after the point, in order.
LOGP_SHARED = {logp_shared!r}
EXPAND_SHARED = {expand_shared!r}
RECORD = record_dtype(SHARED)
{dtypes}
_address = address_as_void_pointer()
#: PyTensor's compiled functions, set before the callbacks are compiled.
logp_function = None
expand_function = None
#: The compiled callbacks, once compiled or loaded in this process.
callbacks = None
'''

_LOGP = """

def logp(dim, x_, out_, logp_, user_data_):
    if dim != N_DIM:
        return -1
    try:
        x = numba.carray(x_, (N_DIM,))
        out = numba.carray(out_, (N_DIM,))
        logp = numba.carray(logp_, ())
        shared = numba.carray(user_data_, (), RECORD)["shared"]
{arrays}
        logp_value, grad = logp_function(x{arguments})
        logp[()] = logp_value
        for i in range(N_DIM):
            out[i] = grad[i]
        for i in range(N_DIM):
            if not np.isfinite(out[i]):
                return 3
        if not np.isfinite(logp[()]):
            return 4
    except Exception:  # noqa: BLE001
        return 1
    return 0
"""

_EXPAND = """

def expand(dim, expanded, x_, out_, user_data_):
    if dim != N_DIM:
        return -1
    if expanded != N_EXPANDED:
        return -1
    try:
        x = numba.carray(x_, (N_DIM,))
        out = numba.carray(out_, (N_EXPANDED,))
        shared = numba.carray(user_data_, (), RECORD)["shared"]
{arrays}
        (values,) = expand_function(x{arguments})
        for i in range(N_EXPANDED):
            out[i] = values[i]
    except Exception:  # noqa: BLE001
        return -2
    return 0
"""


def module_source(
    n_dim, n_expanded, shape_info, shared: dict, logp_shared: list, expand_shared: list
) -> str:
    """The Python source of the module of one network's callbacks (see the module's doc)."""
    names, slices, shapes = shape_info
    order = list(shared)
    dtypes = "\n".join(f"DTYPE_{i} = np.dtype({shared[name][0]!r})" for i, name in enumerate(order))
    source = _HEADER.format(
        n_dim=int(n_dim),
        n_expanded=int(n_expanded),
        names=list(names),
        slices=[(int(s.start), int(s.stop)) for s in slices],
        shapes=[tuple(int(n) for n in shape) for shape in shapes],
        shared=shared,
        logp_shared=list(logp_shared),
        expand_shared=list(expand_shared),
        dtypes=dtypes,
    )
    for template, used in ((_LOGP, logp_shared), (_EXPAND, expand_shared)):
        arrays = "\n".join(_read_array(order.index(name), name, shared[name][1]) for name in used)
        arguments = "".join(f", shared_{order.index(name)}" for name in used)
        source += template.format(arrays=arrays or "        pass", arguments=arguments)
    return source


def _read_array(index: int, name: str, ndim: int) -> str:
    """Source lines that read shared variable ``name`` from the record as ``shared_<index>``."""
    shape = ", ".join(f'int(shared["shape"][{name!r}][{axis}])' for axis in range(ndim))
    return (
        f"        shared_{index} = numba.carray(\n"
        f'            _address(shared["data"][{name!r}][()]),\n'
        f'            int(shared["size"][{name!r}][()]),\n'
        f"            DTYPE_{index},\n"
        f"        ).reshape(({shape}{',' if ndim == 1 else ''}))"
    )


# -- compiling and loading ----------------------------------------------------------------


def _load(network, path: Path):
    """The compiled model from ``path``'s module and Numba's cache of its callbacks, or None
    when either is missing or the module does not describe ``network``."""
    if not path.is_file():
        return None
    try:
        module = _import(path)
    except Exception:  # a damaged file: compile anew and replace it
        return None
    if not _describes(module, network):
        return None
    callbacks = _callbacks(module)
    if callbacks is None:  # Numba's cache was emptied or was written elsewhere
        return None
    return _compiled_model(network, module, *callbacks)


def _compile(network, path: Path):
    """Compile the model of ``network``, write its module to ``path`` and compile its
    callbacks there with Numba's cache (None if the graph's data are not the network's
    named shared variables: nutpie then compiles it)."""
    from nutpie.compile_pymc import _make_functions

    model = network.model
    free = [model.rvs_to_values[rv].name for rv in model.free_RVs]
    flat_point = _FlatInitialPoint(model, free)
    n_dim, n_expanded, logp_fn, expand_fn, _, shape_info, *_ = _make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=flat_point.point,
        var_names=None,
    )
    logp_shared = [var.name for var in logp_fn.get_shared()]
    expand_shared = [var.name for var in expand_fn.get_shared()]
    shared = {}
    for var in [*logp_fn.get_shared(), *expand_fn.get_shared()]:
        if getattr(network, str(var.name), None) is not var:
            return None
        shared[var.name] = (np.dtype(var.type.dtype).name, var.type.ndim)
    source = module_source(n_dim, n_expanded, shape_info, shared, logp_shared, expand_shared)
    written = _write(path, source)
    module = _import(path, reuse=not written)
    module.logp_function = logp_fn.vm.jit_fn
    module.expand_function = expand_fn.vm.jit_fn
    callbacks = _callbacks(module)
    if callbacks is None:
        return None
    return _compiled_model(network, module, *callbacks, logp_fn, expand_fn)


def _callbacks(module):
    """The module's two callbacks, loaded from Numba's cache or compiled into it; None if
    they are not cached and the module's PyTensor functions are not set (Numba cannot type
    a call of None)."""
    import numba
    from numba.core.errors import TypingError

    if getattr(module, "callbacks", None) is None:
        try:
            logp = numba.cfunc(_logp_signature(), cache=True)(module.logp)
            expand = numba.cfunc(_expand_signature(), cache=True)(module.expand)
        except TypingError:
            if module.logp_function is None:
                return None
            raise
        module.callbacks = (logp, expand)
    return module.callbacks


def _logp_signature():
    from numba import types

    double = types.CPointer(types.double)
    return types.int64(types.uint64, double, double, double, types.voidptr)


def _expand_signature():
    from numba import types

    double = types.CPointer(types.double)
    return types.int64(types.uint64, types.uint64, double, double, types.voidptr)


def _describes(module, network) -> bool:
    """Whether the module's free variables and shared variables are ``network``'s (a check
    against a damaged or foreign file; the file's name is what keys the graph)."""
    model = network.model
    free = [model.rvs_to_values[rv] for rv in model.free_RVs]
    if [var.name for var in free] != module.NAMES[: len(free)]:
        return False
    for var, shape in zip(free, module.SHAPES):
        static = tuple(var.type.shape)
        if None not in static and static != tuple(shape):
            return False
    for name, (dtype, ndim) in module.SHARED.items():
        var = getattr(network, name, None)
        if var is None or var.type.ndim != ndim or np.dtype(var.type.dtype).name != dtype:
            return False
    return True


def _compiled_model(network, module, logp, expand, logp_fn=None, expand_fn=None):
    """nutpie's ``CompiledPyMCModel`` of the module's callbacks and ``network``'s model.

    Its fields differ between nutpie's versions (``shared_var_keys``,
    ``reparameterized_names``): those the installed class has are filled.
    """
    from nutpie.compile_pymc import CompiledPyMCModel, _prepare_dims_and_coords, update_user_data

    model = network.model
    names = list(module.NAMES)
    shape_info = (names, [slice(*s) for s in module.SLICES], [tuple(s) for s in module.SHAPES])
    free = names[: len(model.free_RVs)]
    shared_vars = {name: getattr(network, name) for name in module.SHARED}
    shared_data = {}
    for name, var in shared_vars.items():
        value = np.array(var.get_value(), order="C", copy=True)
        value.flags.writeable = False
        shared_data[name] = value
    user_data = update_user_data(np.zeros((), dtype=module.RECORD), shared_data)
    reparameterized = [
        model.rvs_to_values[rv].name
        for rv in model.free_RVs
        if model.rvs_to_transforms.get(rv) is not None
    ]
    fields = {field.name for field in dataclasses.fields(CompiledPyMCModel)}
    new_nutpie = "reparameterized_names" in fields
    dims, coords = _prepare_dims_and_coords(
        model, shape_info, *([reparameterized] if new_nutpie else [])
    )
    initial_point = _FlatInitialPoint(model, free, shape_info[2][: len(free)])
    extra = {}
    if "shared_var_keys" in fields:
        extra["shared_var_keys"] = {var: name for name, var in shared_vars.items()}
    if new_nutpie:
        extra["reparameterized_names"] = reparameterized
    return CompiledPyMCModel(
        _n_dim=module.N_DIM,
        dims=dims,
        _coords=coords,
        _shapes={name: tuple(shape) for name, shape in zip(names, shape_info[2])},
        compiled_logp_func=logp,
        compiled_expand_func=expand,
        initial_point_func=initial_point,
        shared_data=shared_data,
        user_data=user_data,
        n_expanded=module.N_EXPANDED,
        shape_info=shape_info,
        logp_func=logp_fn,
        expand_func=expand_fn,
        **extra,
    )


class _FlatInitialPoint:
    """PyMC's starting point of ``model``'s free variables as nutpie's flat vector, as
    ``nutpie.compile_pymc_model`` makes it (support points, jittered), built at the first
    call: a fit that gives every chain its start never builds it."""

    def __init__(self, model, names: list[str], shapes: list[tuple] | None = None):
        self._model = model
        self._names = names
        self._shapes = shapes
        self._function = None
        self._lock = threading.Lock()

    def point(self, seed) -> dict[str, np.ndarray]:
        """PyMC's starting point for ``seed``, by the value variables' names."""
        from pymc.initial_point import make_initial_point_fn

        with self._lock:
            if self._function is None:
                model = self._model
                self._function = make_initial_point_fn(
                    model=model,
                    overrides=None,
                    default_strategy="support_point",
                    jitter_rvs=set(model.free_RVs),
                    return_transformed=True,
                )
            return self._function(seed)

    def __call__(self, seed) -> np.ndarray:
        point = self.point(seed)
        parts = []
        for name, shape in zip(self._names, self._shapes):
            value = np.asarray(point[name])
            if value.shape != tuple(shape):
                raise ValueError(
                    f"The starting point of {name} has shape {value.shape}, not {shape}."
                )
            parts.append(value.ravel().astype(np.float64))
        return np.concatenate(parts)


def _import(path: Path, reuse: bool = True):
    """The module written to ``path``, imported under a name of its own (Numba's cache
    finds the callbacks' globals by the module's name); ``reuse``: the module this process
    imported before, if any."""
    name = f"bnn_sklearn_{path.stem}"
    loaded = sys.modules.get(name)
    if reuse and loaded is not None and loaded.__file__ == str(path):
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _write(path: Path, source: str) -> bool:
    """Write ``source`` to ``path`` whole (parallel workers may write the same module),
    unless the file already holds it; whether it wrote."""
    try:
        if path.read_text() == source:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as file:
        file.write(source)
    os.replace(file.name, path)
    return True
