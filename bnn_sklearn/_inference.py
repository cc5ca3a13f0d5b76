"""The ADVI engine: PyMC's objective and Adam updates, many iterations per compiled call.

PyMC's ``pm.fit`` calls a compiled step function once per iteration from Python. Here the
same step (PyMC's ADVI objective, its gradient and ``pm.adam`` updates, plus the updates of
the random generators that draw the Monte-Carlo noise and the minibatch indices) is the
body of a ``pytensor.scan``, so one call runs up to ``CHECK_INTERVAL`` iterations and
returns their losses. Python looks only between calls: convergence, divergence, progress.

Data, prior scale and learning rate are shared variables, so a compiled engine serves any
dataset and any values of those; engines are kept in a small in-process pool keyed by
the :class:`~bnn_sklearn._network.Architecture`.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.progress_bar import CustomProgress
from pymc.pytensorf import collect_default_updates
from pytensor.compile.mode import Mode, get_mode
from pytensor.graph.replace import clone_replace
from pytensor.tensor.random.type import RandomGeneratorType

from ._network import Architecture, build_network, parameter_names

#: Iterations per compiled call; also the window of the smoothed loss checked for convergence.
CHECK_INTERVAL = 100
_PYTENSOR_MAJOR = int(pytensor.__version__.split(".")[0])
#: Compiled engines kept in the process (least recently used are dropped first).
POOL_SIZE = 16


def softplus_inverse(x: np.ndarray | float) -> np.ndarray:
    """The ``rho`` whose softplus is ``x``: how PyMC parametrises a positive scale."""
    x = np.asarray(x, dtype=np.float64)
    return x + np.log(-np.expm1(-x))


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


class DivergenceError(ValueError):
    """The negative ELBO or the variational parameters became NaN or infinite."""


@dataclass(frozen=True)
class ADVIResult:
    """Outcome of one fit, in the flat layout ``w_0.ravel(), b_0, w_1.ravel(), b_1, ...``.

    ``cholesky`` is the full-rank posterior's lower Cholesky factor (None for mean-field);
    ``std`` holds the marginal standard deviations for both methods.
    """

    mean: np.ndarray
    std: np.ndarray
    cholesky: np.ndarray | None
    losses: np.ndarray
    converged: bool


class CompiledADVI:
    """ADVI for one :class:`Architecture`, compiled once and reusable for any data.

    Each call to :meth:`fit` resets every piece of optimiser state (means, scales, Adam's
    moments and step count, random generators) from its arguments, so a fit does not
    depend on what the engine ran before.
    """

    def __init__(self, arch: Architecture):
        self.arch = arch
        self.network = build_network(arch)
        self.learning_rate = pytensor.shared(np.float64(0.01), name="learning_rate")
        with self.network.model:
            inference = pm.ADVI() if arch.method == "advi" else pm.FullRankADVI()
        group = inference.approx.groups[0]
        updates = inference.objective.updates(
            obj_optimizer=pm.adam(learning_rate=self.learning_rate)
        )
        # Without the generators' updates the Monte-Carlo noise would never advance.
        updates.update(collect_default_updates(outputs=[updates.loss, *updates.values()]))
        self._state = list(updates)
        self._params = group.params_dict
        self._rngs = [var for var in self._state if isinstance(var.type, RandomGeneratorType)]
        # Generators are reseeded on every fit; everything else restarts from these values.
        self._initial_state = {var: var.get_value() for var in self._state if var not in self._rngs}
        self._flat_index = self._flat_layout(group.ordering)
        with _quiet_blas_notice():
            self._run = self._compile_scan(updates)

    def _flat_layout(self, ordering) -> np.ndarray:
        """Index that takes PyMC's flat parameter vector to our documented layout."""
        names = parameter_names(len(self.arch.layer_sizes) - 1)
        return np.r_[tuple(ordering[name][1] for name in names)]

    def _compile_scan(self, updates) -> pytensor.compile.Function:
        state, loss = self._state, updates.loss

        def step(*current):
            return clone_replace(
                [updates[var] for var in state] + [loss], replace=dict(zip(state, current))
            )

        # The default backend, without PyMC's parameter checks (a diverged fit must give a
        # NaN loss that the loop reports, not an error from inside the graph).
        default = get_mode(None)
        mode = Mode(
            linker=default.linker,
            optimizer=default.provided_optimizer.including("local_remove_check_parameter"),
        )
        # PyTensor 3 compiles scan's inner graph with the outer function's mode; 2.x needs it.
        inner_mode = {} if _PYTENSOR_MAJOR >= 3 else {"mode": mode}
        n_steps = pt.iscalar("n_steps")
        outputs = pytensor.scan(
            step, outputs_info=[*state, None], n_steps=n_steps, return_updates=False, **inner_mode
        )
        *final, losses = outputs
        # Tensor states come back stacked over the steps, generators as their last value.
        final = [
            out if isinstance(var.type, RandomGeneratorType) else out[-1]
            for var, out in zip(state, final)
        ]
        return pytensor.function([n_steps], losses, updates=dict(zip(state, final)), mode=mode)

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        prior_scale: float,
        learning_rate: float,
        init_mean: np.ndarray,
        init_std: float,
        seed: int,
        max_iter: int,
        tol: float | None,
        n_iter_no_change: int,
        verbose: bool = False,
    ) -> ADVIResult:
        """Run ADVI on ``(X, y)`` from ``init_mean`` until convergence or ``max_iter``.

        ``tol`` is relative: a check (the mean loss over ``CHECK_INTERVAL`` iterations)
        improves when it falls below the best so far by more than ``tol`` times its
        magnitude. ``tol=None`` runs exactly ``max_iter`` iterations.
        """
        network = self.network
        network.X.set_value(X)
        network.y.set_value(y)
        network.prior_scale.set_value(np.float64(prior_scale))
        self.learning_rate.set_value(np.float64(learning_rate))
        self._reset(init_mean, init_std, seed)
        # Losses of minibatch steps are normalised by n / batch_size; undo it.
        scale = 1.0 if self.arch.batch_size is None else len(X) / self.arch.batch_size
        try:
            losses, converged = self._iterate(scale, max_iter, tol, n_iter_no_change, verbose)
            return self._result(losses, converged)
        finally:
            # Do not keep the caller's data alive in the pooled engine.
            network.X.set_value(np.zeros((2, self.arch.n_features)))
            network.y.set_value(np.zeros(2, dtype="int32"))

    def _reset(self, init_mean: np.ndarray, init_std: float, seed: int) -> None:
        for var, value in self._initial_state.items():
            var.set_value(value.copy())
        mu = np.empty_like(init_mean)
        mu[self._flat_index] = init_mean
        self._params["mu"].set_value(mu)
        if self.arch.method == "advi":
            self._params["rho"].set_value(np.full(mu.shape, softplus_inverse(init_std)))
        else:
            diagonal = np.zeros((mu.size, mu.size))
            np.fill_diagonal(diagonal, softplus_inverse(init_std))
            self._params["L_tril"].set_value(diagonal[np.tril_indices(mu.size)])
        for var, child in zip(self._rngs, np.random.SeedSequence(seed).spawn(len(self._rngs))):
            var.set_value(np.random.default_rng(child))

    def _iterate(self, scale, max_iter, tol, n_iter_no_change, verbose):
        chunks, best, no_improvement, done = [], np.inf, 0, 0
        with CustomProgress(disable=not verbose) as progress:
            task = progress.add_task("Fitting", total=max_iter)
            while done < max_iter:
                chunk = scale * self._run(min(CHECK_INTERVAL, max_iter - done))
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
                if tol is None:
                    continue
                smoothed = float(chunk.mean())
                if smoothed > best - tol * abs(best):
                    no_improvement += 1
                else:
                    no_improvement = 0
                best = min(best, smoothed)
                if no_improvement >= n_iter_no_change:
                    return np.concatenate(chunks), True
        return np.concatenate(chunks), False

    def _result(self, losses: np.ndarray, converged: bool) -> ADVIResult:
        mean = self._params["mu"].get_value()[self._flat_index]
        if self.arch.method == "advi":
            std = softplus(self._params["rho"].get_value())[self._flat_index]
            cholesky = None
        else:
            size = mean.size
            factor = np.zeros((size, size))
            factor[np.tril_indices(size)] = self._params["L_tril"].get_value()
            factor[np.diag_indices(size)] = softplus(np.diag(factor))
            cholesky = _lower_factor(factor[self._flat_index])
            std = np.sqrt(np.sum(cholesky**2, axis=1))
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
            raise DivergenceError(
                "ADVI diverged: the variational parameters became non-finite. Lower "
                "learning_rate or standardise the inputs (e.g. with sklearn's StandardScaler)."
            )
        return ADVIResult(mean, std, cholesky, losses, converged)


@contextmanager
def _quiet_blas_notice():
    """Silence PyTensor's C-backend notice that it found no BLAS to link (see the README)."""
    blas_logger = logging.getLogger("pytensor.tensor.blas")
    level = blas_logger.level
    blas_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
            yield
    finally:
        blas_logger.setLevel(level)


def _lower_factor(rows: np.ndarray) -> np.ndarray:
    """Lower-triangular ``L`` with ``L @ L.T == rows @ rows.T`` (from a QR of ``rows.T``)."""
    r = np.linalg.qr(rows.T, mode="r")
    signs = np.where(np.diag(r) < 0, -1.0, 1.0)
    return (r * signs[:, None]).T


class _EnginePool:
    """Compiled engines by architecture; each engine is used by one fit at a time."""

    def __init__(self, size: int, build=CompiledADVI):
        self.size = size
        self._build = build
        self._idle: OrderedDict[Architecture, list[CompiledADVI]] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0

    @contextmanager
    def engine(self, arch: Architecture):
        with self._lock:
            idle = self._idle.get(arch)
            engine = idle.pop() if idle else None
        if engine is None:
            engine = self._build(arch)
            with self._lock:
                self.builds += 1
        try:
            yield engine
        finally:
            with self._lock:
                self._idle.setdefault(arch, []).append(engine)
                self._idle.move_to_end(arch)
                while sum(map(len, self._idle.values())) > self.size:
                    oldest = next(iter(self._idle))
                    self._idle[oldest].pop(0)
                    if not self._idle[oldest]:
                        del self._idle[oldest]

    def clear(self) -> None:
        with self._lock:
            self._idle.clear()


ENGINES = _EnginePool(POOL_SIZE)
