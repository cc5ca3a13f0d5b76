"""The ADVI engine: PyMC's objective and Adam updates, many iterations per compiled call.

PyMC's ``pm.fit`` calls a compiled step function once per iteration from Python. Here the
same step (PyMC's ADVI objective, its gradient and ``pm.adam`` updates) is the body of a
``pytensor.scan``, so one call runs up to ``CHECK_INTERVAL`` iterations and returns their
losses; the random numbers of those iterations (the Monte-Carlo noise, the minibatch rows)
are drawn before the loop, the same numbers each iteration would have drawn. Python looks
only between calls: convergence, divergence, progress.

Data, layer sizes, prior scale and learning rate are shared variables, so a compiled
engine serves any dataset, any widths of its layers and any values of those; engines are
kept in a small in-process pool keyed by :class:`~bnn_sklearn._network.GraphKey` (depth,
activation, method, minibatch size, likelihood).
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import Mode, get_mode
from pytensor.graph import ancestors
from pytensor.graph.basic import equal_computations
from pytensor.graph.replace import clone_replace, graph_replace
from pytensor.link.numba.linker import NumbaLinker
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.rewriting.ofg import inline_ofg_node  # PyTensor's own inlining

from ._engine_cache import cached_engine
from ._families import FAMILIES
from ._network import Architecture, build_network, parameter_names, parameter_shapes
from ._posterior import Posterior
from ._threads import single_threaded_blas
from .exceptions import DivergenceError

#: Iterations per compiled call; also the window of the smoothed loss checked for convergence.
CHECK_INTERVAL = 100
_PYTENSOR_MAJOR = int(pytensor.__version__.split(".")[0])


def engine_mode(full_batch: bool = True) -> str | None:
    """The PyTensor mode the engine compiles with (None: PyTensor's default).

    PyTensor 3 compiles with Numba by default. PyTensor 2's default is its C backend, which a
    pip install leaves without BLAS; its Numba backend (PyTensor 2 depends on numba) fits
    the seed's defaults faster (Python 3.11, ``benchmarks/results/seed_speed_py311.md``),
    so full-batch engines use it there.
    Minibatch engines keep the C backend on PyTensor 2: its Numba backend cannot compile the
    minibatch's shape checks. A mode set in ``PYTENSOR_FLAGS`` or ``pytensor.config.mode``
    is kept.
    """
    if _PYTENSOR_MAJOR >= 3 or pytensor.config.mode != "Mode" or not full_batch:
        return None
    return "NUMBA"


def _compile_mode(full_batch: bool) -> Mode:
    """The mode the engine compiles with: the backend of :func:`engine_mode` with its own
    rewrites only.

    PyMC's parameter checks are already out of the graph (``_without_parameter_checks``),
    so the mode names none of PyMC's rewrites: PyTensor 2's Numba backend queries the
    scan's mode again when a loaded engine links, and a query for a rewrite the process
    has not registered (PyMC not imported) leaves its name in PyTensor's rewrite database,
    so that importing PyMC afterwards fails to register it.
    """
    default = get_mode(engine_mode(full_batch))
    optimizer = default.provided_optimizer
    if _PYTENSOR_MAJOR < 3 and _links_numba(default):
        # PyTensor 2's in-place rewrite fails on this graph under Numba: it logs a
        # traceback at ERROR level and leaves the graph as it was.
        optimizer = optimizer.excluding("inplace_elemwise")
    return Mode(linker=default.linker, optimizer=optimizer)


def _links_numba(mode: Mode) -> bool:
    return isinstance(mode.linker, NumbaLinker)


#: Compiled engines kept in the process (least recently used are dropped first).
POOL_SIZE = 16
#: Random numbers drawn ahead per compiled call (8 MB); big networks take fewer iterations
#: per call instead of more memory.
DRAWS_PER_CALL = 2**20


@dataclass(frozen=True)
class ADVIResult:
    """Outcome of one fit.

    The posterior, the loss of every iteration, whether the stopping rule ended the fit,
    and the monitor's score at every check (None without a monitor).
    """

    posterior: Posterior
    losses: np.ndarray
    converged: bool
    validation_losses: np.ndarray | None = None


class CompiledADVI:
    """ADVI for every :class:`Architecture` of one :class:`GraphKey`, compiled once.

    PyMC's ``pm.ADVI`` keeps the variational parameters in one flat vector and cuts it
    into the free variables with constant slices and reshapes, so each layer size would
    be a constant of the compiled graph. Here the same objective is built with the layer
    sizes as shared integers (the number of outputs stays a constant where the likelihood
    fixes it): one flat vector of means and one of the family's packed scale (``rho`` for
    mean-field, the Cholesky factor's ``L_tril`` for full rank; see
    :mod:`bnn_sklearn._families`), cut at symbolic offsets. As in PyMC, one draw of
    standard-normal noise ``eps`` gives the parameters (``z = mu + softplus(rho) * eps``
    or ``mu + L @ eps``) and the loss is
    ``(log q(z) - model.logp(z)) / (total_size / rows per step)``, minimised with
    ``pm.adam``. Networks of any widths then share the compiled function, in the process
    and in PyTensor's disk cache.

    Each call to :meth:`fit` resets every piece of optimiser state (means, scales, Adam's
    moments and step count, random generators) at the shapes of its architecture, so a
    fit does not depend on what the engine ran before.
    """

    def __init__(self, arch: Architecture):
        self.key = arch.graph_key
        self.family = FAMILIES[self.key.method]
        self.network = build_network(arch, shared_sizes=True)
        self.learning_rate = pytensor.shared(np.float64(0.01), name="learning_rate")
        model = self.network.model
        names = parameter_names(self.key)
        if [var.name for var in model.free_RVs] != names:
            raise RuntimeError(f"Free variables {model.free_RVs} are not in the order {names}.")
        shapes = parameter_shapes(
            self.network.layer_sizes,
            self.key.likelihood,
            self.key.group_layers,
            self.network.n_groups,
        )
        sizes = [pt.prod(shape, dtype="int64") if shape else 1 for shape in shapes]
        n_params = pt.add(*sizes)
        self.mu = pytensor.shared(np.zeros(1), shape=(None,), name="mu")
        self.scale = pytensor.shared(np.zeros(1), shape=(None,), name="rho_or_L_tril")
        noise_rng = pytensor.shared(np.random.default_rng(), name="noise_rng")
        eps = _standard_normal(n_params, noise_rng)
        z, log_diag = self.family.draw(self.mu, self.scale, eps, n_params)
        offsets = list(accumulate(sizes, initial=0))
        values = [
            z[start:stop].reshape(shape)
            for start, stop, shape in zip(offsets[:-1], offsets[1:], shapes)
        ]
        logp = graph_replace(model.logp(), dict(zip(model.value_vars, values)), strict=True)
        logp = _without_parameter_checks(logp)
        logq = pt.sum(-0.5 * eps**2 - 0.5 * np.log(2.0 * np.pi) - log_diag)
        rows = self.network.X.shape[0] if self.key.batch_size is None else self.key.batch_size
        per_step = pt.cast(self.network.total_size / rows, "float64")
        n_steps = pt.iscalar("n_steps")
        loss, self._draws = _draws_per_call((logq - logp) / per_step, n_steps)
        # Seeded in this order: the noise's generator first, then the minibatch's.
        self._rngs = [noise_rng] + [d.rng for d in self._draws if d.rng is not noise_rng]
        params = [self.mu, self.scale]
        import pymc as pm  # building only: an engine loaded from the cache runs without PyMC

        updates = pm.adam(loss, params, learning_rate=self.learning_rate)
        # pm.adam lists each parameter's two moments just before the parameter.
        keys = list(updates)
        self._moments = {keys[keys.index(p) - k]: p for p in params for k in (1, 2)}
        self._state = list(updates)
        # Adam's step count (the one scalar state) restarts from its first value.
        self._initial_scalars = {var: var.get_value() for var in self._state if var.type.ndim == 0}
        with _quiet_blas_notice(), _exact_arithmetic():
            self._run = self._compile_scan(updates, loss, n_steps)

    def __getstate__(self) -> dict:
        """What a fit needs: the compiled function and its shared variables, not the PyMC
        model or the symbolic graph it was compiled from (see :mod:`._engine_cache`)."""
        state = self.__dict__.copy()
        state["network"] = dataclasses.replace(self.network, model=None)
        del state["_draws"]
        return state

    def _compile_scan(self, updates, loss, n_steps) -> pytensor.compile.Function:
        state = self._state
        step_draws = [draw.step for draw in self._draws]

        def step(*inputs):
            draws, current = inputs[: len(step_draws)], inputs[len(step_draws) :]
            replace = dict(zip(state, current)) | dict(zip(step_draws, draws))
            return clone_replace([updates[var] for var in state] + [loss], replace=replace)

        mode = _compile_mode(full_batch=self.key.batch_size is None)
        # PyTensor 3 compiles scan's inner graph with the outer function's mode; 2.x needs it.
        inner_mode = {} if _PYTENSOR_MAJOR >= 3 else {"mode": mode}
        *final, losses = pytensor.scan(
            step,
            sequences=[draw.per_call for draw in self._draws],
            outputs_info=[*state, None],
            n_steps=n_steps,
            return_updates=False,
            **inner_mode,
        )
        updates = {var: out[-1] for var, out in zip(state, final)}
        updates |= {draw.rng: draw.next_rng for draw in self._draws}
        return pytensor.function([n_steps], losses, updates=updates, mode=mode)

    def fit(
        self,
        arch: Architecture,
        X: np.ndarray,
        y: np.ndarray,
        *,
        sample_weight: np.ndarray,
        total_size: int,
        prior_scale: float,
        learning_rate: float,
        init: Posterior,
        seed: int,
        max_iter: int,
        tol: float | None,
        n_iter_no_change: int,
        monitor: Callable[[Posterior], float] | None = None,
        verbose: bool = False,
        group_index: np.ndarray | None = None,
        prior: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> ADVIResult:
        """Run ADVI for ``arch`` on ``(X, y)`` from the posterior ``init`` until it stops or
        ``max_iter``.

        Every ``CHECK_INTERVAL`` iterations a check scores the fit: the mean loss of those
        iterations, or, with a ``monitor``, ``monitor(posterior)`` (e.g. a validation log
        loss); lower is better. A check improves when it falls below the best so far by
        more than ``tol`` times its magnitude; ``n_iter_no_change`` checks without
        improvement stop the fit. ``tol=None`` runs exactly ``max_iter`` iterations. With
        a monitor the result is the best-scoring posterior seen, otherwise the last.

        A grouped ``arch`` takes each row's group in ``group_index`` (integers from 0 to
        ``arch.n_groups - 1``); one with an informed prior takes its ``(means, sds)``.
        """
        if arch.graph_key != self.key:
            raise ValueError(f"This engine fits {self.key}, not {arch}.")
        network = self.network
        n_groups = arch.n_groups if arch.group_layers else None
        network.set_data(
            network.data(X, y, sample_weight, total_size, prior_scale, group_index, n_groups, prior)
        )
        network.set_layer_sizes(arch.layer_sizes)
        self.learning_rate.set_value(np.float64(learning_rate))
        self._reset(init, seed)
        # The loss is divided by total_size / rows per step, as PyMC's is; undo it.
        rows_per_step = len(X) if arch.batch_size is None else arch.batch_size
        scale = total_size / rows_per_step
        try:
            with single_threaded_blas():
                return self._iterate(scale, max_iter, tol, n_iter_no_change, monitor, verbose)
        finally:
            network.clear_data()

    def _reset(self, init: Posterior, seed: int) -> None:
        """Start from ``init`` with fresh Adam moments (at the new shapes) and generators."""
        self.mu.set_value(init.mean)
        self.scale.set_value(self.family.pack(init))
        for moment, param in self._moments.items():
            moment.set_value(np.zeros_like(param.get_value()))
        for var, value in self._initial_scalars.items():
            var.set_value(value.copy())
        for var, child in zip(self._rngs, np.random.SeedSequence(seed).spawn(len(self._rngs))):
            var.set_value(np.random.default_rng(child))

    def _iterate(self, scale, max_iter, tol, n_iter_no_change, monitor, verbose) -> ADVIResult:
        chunks, scores, done = [], [], 0
        stopping = _StoppingRule(tol, n_iter_no_change)
        best = None
        with _progress_bar(verbose) as progress, _HeldInterrupt() as interrupt:
            task = progress.add_task("Fitting", total=max_iter)
            while done < max_iter:
                chunk = scale * self._run_steps(min(CHECK_INTERVAL, max_iter - done))
                interrupt.raise_if_pending()
                if not np.all(np.isfinite(chunk)):
                    first_bad = done + int(np.argmin(np.isfinite(chunk))) + 1
                    rate = self.learning_rate.get_value()
                    raise DivergenceError(
                        f"ADVI diverged: the negative ELBO became non-finite at iteration "
                        f"{first_bad}. Lower learning_rate (it is {rate:g}) or standardise "
                        "the inputs (e.g. with sklearn's StandardScaler)."
                    )
                chunks.append(chunk)
                done += len(chunk)
                progress.update(task, advance=len(chunk))
                if monitor is None:
                    score = float(chunk.mean())
                else:
                    current = self._posterior()
                    score = float(monitor(current))
                    scores.append(score)
                    if best is None or score < best[0]:
                        best = (score, current)
                if stopping.should_stop(score):
                    break
        posterior = self._posterior() if best is None else best[1]
        return ADVIResult(
            posterior=posterior,
            losses=np.concatenate(chunks),
            converged=stopping.stopped,
            validation_losses=np.array(scores) if monitor is not None else None,
        )

    def _run_steps(self, n_steps: int) -> np.ndarray:
        """The losses of ``n_steps`` iterations, in calls that each draw at most about
        ``DRAWS_PER_CALL`` random numbers ahead (one noise vector per iteration)."""
        n_params = self.mu.get_value(borrow=True).size
        per_call = max(1, min(n_steps, DRAWS_PER_CALL // n_params))
        calls = range(0, n_steps, per_call)
        with _quiet_blas_notice():  # Numba compiles the engine at its first call
            return np.concatenate([self._run(min(per_call, n_steps - i)) for i in calls])

    def _posterior(self) -> Posterior:
        posterior = self.family.unpack(self.mu.get_value(), self.scale.get_value())
        mean, std = posterior.mean, posterior.std
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
            raise DivergenceError(
                "ADVI diverged: the variational parameters became non-finite. Lower "
                "learning_rate or standardise the inputs (e.g. with sklearn's StandardScaler)."
            )
        return posterior


def _standard_normal(size, rng) -> pt.TensorVariable:
    """``size`` standard-normal draws from ``rng`` (PyTensor 3 warns unless asked for the
    next generator too; 2.x does not take that argument)."""
    if _PYTENSOR_MAJOR >= 3:
        return pt.random.normal(0.0, 1.0, size=(size,), rng=rng, return_next_rng=True)[1]
    return pt.random.normal(0.0, 1.0, size=(size,), rng=rng)


@dataclass(frozen=True)
class _CallDraws:
    """One random draw of an iteration, made for all the iterations of a call at once.

    ``per_call`` stacks the draws of ``n_steps`` iterations (scan's sequence), ``step``
    stands for one iteration's draw in the loss, ``next_rng`` is ``rng`` after the call.
    """

    rng: pytensor.compile.SharedVariable
    next_rng: pt.Variable
    per_call: pt.TensorVariable
    step: pt.TensorVariable


def _draws_per_call(loss, n_steps) -> tuple[pt.TensorVariable, list[_CallDraws]]:
    """``loss`` with each random draw (the noise, the minibatch rows) made before the loop.

    Drawing ``n_steps`` iterations' values in one call gives the same numbers as drawing
    them one iteration at a time (NumPy's generators fill arrays in order), so the fit
    is unchanged; the loop body then holds no random-number op, which the C backend runs
    in Python with a copy of the generator at every iteration.
    """
    loss = _inline_minibatches(loss)
    # One generator may feed several copies of one draw (PyMC's logp holds two copies of a
    # Minibatch, graph replacements clone the noise's draw): all copies are one draw.
    copies: dict[pt.Variable, dict] = {}
    for var in ancestors([loss]):
        if var.owner is not None and isinstance(var.owner.op, RandomVariable):
            copies.setdefault(var.owner.inputs[0], {})[var.owner] = None
    draws, replace = [], {}
    for rng, nodes in copies.items():
        node, *others = nodes
        _, size, *params = node.inputs
        if rng.owner is not None or not all(
            equal_computations(other.inputs, node.inputs) for other in others
        ):
            raise RuntimeError(f"Cannot draw {node} ahead of the loop.")
        steps_size = pt.concatenate([pt.cast(n_steps, "int64")[None], pt.cast(size, "int64")])
        next_for_call, per_call = node.op.make_node(rng, steps_size, *params).outputs
        in_loss = node.outputs[1]
        per_call = pt.specify_shape(per_call, (None, *in_loss.type.shape))
        draws.append(_CallDraws(rng, next_for_call, per_call, in_loss.type()))
        replace |= {copy.outputs[1]: draws[-1].step for copy in nodes}
    return graph_replace(loss, replace, strict=True), draws


def _without_parameter_checks(graph) -> pt.TensorVariable:
    """``graph`` without PyMC's parameter checks (``sigma > 0``): a diverged fit must give a
    NaN loss that the loop reports, not an error from inside the graph, and an engine loaded
    from the cache then needs no PyMC."""
    from pymc.logprob.utils import CheckParameterValue

    while True:
        checks = {
            var: var.owner.inputs[0]
            for var in ancestors([graph])
            if var.owner is not None and isinstance(var.owner.op, CheckParameterValue)
        }
        if not checks:
            return graph
        graph = graph_replace(graph, checks, strict=True)


def _inline_minibatches(loss) -> pt.TensorVariable:
    """``loss`` with each ``pm.Minibatch`` replaced by the graph it wraps (the draw of the
    row indices, then the indexing), so that the draw can be moved out of the loop."""
    from pymc.data import MinibatchOp

    replace = {}
    for var in ancestors([loss]):
        node = var.owner
        if isinstance(getattr(node, "op", None), MinibatchOp) and var not in replace:
            replace.update(zip(node.outputs, inline_ofg_node(node)))
    return graph_replace(loss, replace, strict=False)


class _NoProgress:
    """The progress bar's interface, showing nothing (and importing nothing)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def add_task(self, *args, **kwargs) -> None:
        pass

    def update(self, *args, **kwargs) -> None:
        pass


def _progress_bar(verbose: bool):
    """PyMC's progress bar when ``verbose``, else one that shows nothing."""
    if not verbose:
        return _NoProgress()
    from pymc.progress_bar import CustomProgress

    return CustomProgress()


class _HeldInterrupt:
    """Hold Ctrl-C until the compiled call returns, then raise KeyboardInterrupt.

    An interrupt that lands inside Numba-compiled code surfaces as a SystemError; held
    for the few milliseconds of a call, it arrives as the KeyboardInterrupt the user
    expects. Only the main thread receives signals, so elsewhere this does nothing.
    """

    def __enter__(self):
        self.pending, self._previous = False, None
        in_main_thread = threading.current_thread() is threading.main_thread()
        if in_main_thread and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._hold)
        return self

    def _hold(self, signum, frame) -> None:
        self.pending = True

    def raise_if_pending(self) -> None:
        if self.pending:
            raise KeyboardInterrupt

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class _StoppingRule:
    """Relative-tolerance patience on a score where lower is better (``tol=None``: never)."""

    def __init__(self, tol: float | None, n_iter_no_change: int):
        self.tol, self.patience = tol, n_iter_no_change
        self.best, self.no_improvement, self.stopped = np.inf, 0, False

    def should_stop(self, score: float) -> bool:
        if self.tol is None:
            return False
        improved = self.best == np.inf or score < self.best - self.tol * abs(self.best)
        self.no_improvement = 0 if improved else self.no_improvement + 1
        self.best = min(self.best, score)
        self.stopped = self.no_improvement >= self.patience
        return self.stopped


#: Give-back (see :func:`loss_give_back`) above which a fit is reported unstable. Fits at
#: the default learning rate gave back at most 0.019 (moons, iris, breast cancer, digits,
#: diabetes, friedman1, a 1-D problem; both noise models; two seeds); at 5 times it the fits
#: that ended poor gave back 0.33-2.6 and those that ended well 0.02-0.18.
UNSTABLE_GIVE_BACK = 0.2


def loss_give_back(losses: np.ndarray) -> float:
    """How far the loss fell back at the end of a fit: 0 when the last window of
    ``CHECK_INTERVAL`` iterations is as low as the best window, 1 when it is back where the
    first window was, more when it ended above it (0 with fewer than two windows or a loss
    that never rose). Windows end at the last iteration and are scored by their median
    loss: on unscaled inputs single iterations spike by orders of magnitude.
    """
    n_windows = len(losses) // CHECK_INTERVAL
    if n_windows < 2:
        return 0.0
    tail = np.asarray(losses[len(losses) - n_windows * CHECK_INTERVAL :], dtype=np.float64)
    windows = np.median(tail.reshape(n_windows, CHECK_INTERVAL), axis=1)
    first, best, last = windows[0], windows.min(), windows[-1]
    if last <= best:
        return 0.0
    if first <= best:  # the first window was the best: the fit only rose
        return np.inf
    return float((last - best) / (first - best))


def _exact_arithmetic():
    """Compile without Numba's fastmath.

    Reassociated sums can depend on the arrays' memory alignment: the same
    ``random_state`` gave fits that differed in the last digit between a long-lived
    process and fresh worker processes (Python 3.13), and NUTS's trajectories turn such
    differences into other draws.
    """
    return pytensor.config.change_flags(numba__fastmath=False)


@contextmanager
def _quiet_blas_notice():
    """Silence PyTensor's C-backend notice that it found no BLAS to link (user guide: Speed),
    and Numba's note, while it compiles, that ``np.dot`` is faster on contiguous arrays (the
    transposed weights of the backward pass are views)."""
    blas_logger = logging.getLogger("pytensor.tensor.blas")
    level = blas_logger.level
    blas_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
            warnings.filterwarnings("ignore", message=r"np\.dot\(\) is faster on contiguous")
            yield
    finally:
        blas_logger.setLevel(level)


class _EnginePool:
    """Compiled engines by ``key(architecture)``; each engine is used by one fit at a time."""

    def __init__(self, size: int, build=CompiledADVI, key=lambda arch: arch):
        self.size = size
        self._build = build
        self._key = key
        self._idle: OrderedDict[object, list] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0

    @contextmanager
    def engine(self, arch: Architecture):
        """An idle engine for ``arch``, built if there is none, returned to the pool after."""
        key = self._key(arch)
        with self._lock:
            idle = self._idle.get(key)
            engine = idle.pop() if idle else None
        if engine is None:
            engine = self._build(arch)
            with self._lock:
                self.builds += 1
        try:
            yield engine
        finally:
            with self._lock:
                self._idle.setdefault(key, []).append(engine)
                self._idle.move_to_end(key)
                while sum(map(len, self._idle.values())) > self.size:
                    oldest = next(iter(self._idle))
                    self._idle[oldest].pop(0)
                    if not self._idle[oldest]:
                        del self._idle[oldest]

    def clear(self) -> None:
        with self._lock:
            self._idle.clear()


def _cached_or_built(arch: Architecture) -> CompiledADVI:
    # Loading links the compiled code, so under the build's settings: Numba compiles a loaded
    # engine at its first call with the options set when it was loaded.
    # Numba's compiled code does not depend on PyTensor's BLAS flags (whose detection
    # compiles a test program with the C compiler: a third of a second of every new process).
    blas = not _links_numba(_compile_mode(full_batch=arch.batch_size is None))
    with _quiet_blas_notice(), _exact_arithmetic():
        return cached_engine(arch, CompiledADVI, blas=blas)


ENGINES = _EnginePool(POOL_SIZE, build=_cached_or_built, key=lambda arch: arch.graph_key)
