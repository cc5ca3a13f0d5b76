"""NUTS: the exact posterior of the network, sampled by nutpie or by PyMC's own sampler.

The same PyMC model as ADVI's (:func:`~bnn_sklearn._network.build_network`, full batch).
Chains start where PyMC starts them, or each at a given point (``method="mile"``: one
chain from each ADVI member's mean).
nutpie compiles the model's log density and gradient once per architecture (kept on disk,
so later processes load it: :mod:`bnn_sklearn._nutpie_cache`); every later fit passes its
data with ``with_data``, so a grid search or cross-validation does not recompile. PyMC's
sampler (the fallback when nutpie is not installed) reads the same shared variables. The
draws leave this module as one NumPy array in the flat parameter layout.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec

import numpy as np

from ._inference import POOL_SIZE, _EnginePool, _exact_arithmetic, _quiet_blas_notice
from ._network import Architecture, build_network, parameter_names, parameter_shapes
from ._nutpie_cache import compile_network
from ._posterior import Posterior, iter_network_draws, thin
from ._threads import single_threaded_blas
from .exceptions import DivergenceError

#: A ConvergenceWarning when the predictions' R-hat on the training rows is above this
#: (chains that disagree about the fit) ...
RHAT_WARNING = 1.1
#: ... or when more than this fraction of the transitions diverged ...
DIVERGENCE_WARNING = 0.01
#: ... or, for short chains started at ADVI members' means (``method="mile"``), this
#: fraction: their step size is still settling, and on the UCI benchmark fits with up to
#: a quarter of their transitions diverging predicted as well as the rest.
STARTED_CHAINS_DIVERGENCE_WARNING = 0.25
#: Training rows (at most) whose predicted probabilities enter ``predictive_rhat``.
PREDICTIVE_RHAT_ROWS = 200


def nutpie_installed() -> bool:
    return find_spec("nutpie") is not None


def resolve_sampler(nuts_sampler: str) -> str:
    """The sampler to run for ``nuts_sampler`` ("auto", "nutpie" or "pymc")."""
    if nuts_sampler == "auto":
        return "nutpie" if nutpie_installed() else "pymc"
    if nuts_sampler == "nutpie" and not nutpie_installed():
        raise ImportError(
            "nuts_sampler='nutpie' needs the nutpie package: pip install nutpie (or this "
            "package's 'nuts' extra), or use nuts_sampler='pymc' or 'auto'."
        )
    return nuts_sampler


@dataclass(frozen=True)
class NUTSResult:
    """Draws of every chain, ``(chains, draws, n_params)`` in the flat layout, and divergences."""

    draws: np.ndarray
    divergences: int


class CompiledNUTS:
    """The network model of one :class:`Architecture`, ready to be sampled with any data.

    nutpie's compiled model is built on first use and kept; ``with_data`` returns a new
    object, so the compiled model itself is never changed by a fit.
    """

    def __init__(self, arch: Architecture):
        self.arch = arch
        self.network = build_network(arch)
        self._nutpie_model = None
        #: How nutpie's model was made: "loaded", "compiled", "nutpie" (None: not yet).
        self.nutpie_origin = None
        self._names = parameter_names(arch.graph_key)
        self._shapes = parameter_shapes(
            arch.layer_sizes, arch.likelihood, arch.group_layers, arch.n_groups
        )

    def sample(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        group_index: np.ndarray | None = None,
        prior: tuple[np.ndarray, np.ndarray] | None = None,
        sample_weight: np.ndarray,
        prior_scale: float,
        sampler: str,
        chains: int,
        tune: int,
        draws: int,
        target_accept: float,
        max_treedepth: int,
        seed: int,
        verbose: bool,
        starts: np.ndarray | None = None,
    ) -> NUTSResult:
        """Sample the posterior given ``(X, y)`` (each row's group, for a grouped
        architecture; the means and sds of an informed prior) with ``sampler`` ("nutpie"
        or "pymc").

        ``starts`` (``(chains, n_params)`` in the flat layout) starts each chain at its
        row, without jitter; None starts them where the sampler does.
        """
        n_groups = self.arch.n_groups if group_index is not None else None
        data = self.network.data(
            X, y, sample_weight, len(X), prior_scale, group_index, n_groups, prior
        )
        settings = dict(
            chains=chains,
            tune=tune,
            draws=draws,
            target_accept=target_accept,
            max_treedepth=max_treedepth,
            seed=seed,
            verbose=verbose,
        )
        if starts is not None and len(starts) != chains:
            raise ValueError(f"{len(starts)} starting points for {chains} chains.")
        if sampler == "nutpie":
            if starts is not None:
                return self._sample_nutpie_from(data, starts, **settings)
            return self._sample_nutpie(data, **settings)
        return self._sample_pymc(data, starts=starts, **settings)

    def _compiled_nutpie(self, verbose: bool):
        """nutpie's compiled model, loaded from the disk cache when an earlier process
        compiled it (see :mod:`bnn_sklearn._nutpie_cache`)."""
        if self._nutpie_model is None:
            with _quiet(verbose), _quiet_blas_notice(), _exact_arithmetic():
                self._nutpie_model, self.nutpie_origin = compile_network(self.network, self.arch)
        return self._nutpie_model

    def _sample_nutpie(
        self, data, *, chains, tune, draws, target_accept, max_treedepth, seed, verbose
    ):
        import nutpie

        model = self._compiled_nutpie(verbose).with_data(**data)
        with _quiet(verbose), single_threaded_blas():
            trace = nutpie.sample(
                model,
                chains=chains,
                tune=tune,
                draws=draws,
                seed=int(seed),
                cores=_cores(chains),
                target_accept=target_accept,
                maxdepth=max_treedepth,
                save_warmup=False,
                progress_bar=bool(verbose),
            )
        return self._result(trace, chains, draws)

    def _sample_nutpie_from(
        self, data, starts, *, chains, tune, draws, target_accept, max_treedepth, seed, verbose
    ):
        """One nutpie run of one chain per starting point, ``_cores`` of them at a time.

        Separate runs, not one run of many chains: nutpie asks for a chain's starting
        point from whichever thread starts first, so one run could not tie a chain's
        seed to its start, and the draws would depend on thread timing.
        """
        import nutpie

        model = self._compiled_nutpie(verbose).with_data(**data)
        chain_seeds = np.random.SeedSequence(int(seed)).generate_state(chains)

        def run_chain(chain: int):
            start = self._nutpie_layout(starts[chain])
            chain_model = dataclasses.replace(model, initial_point_func=lambda _: start.copy())
            return nutpie.sample(
                chain_model,
                chains=1,
                tune=tune,
                draws=draws,
                seed=int(chain_seeds[chain]),
                cores=1,
                target_accept=target_accept,
                maxdepth=max_treedepth,
                save_warmup=False,
                progress_bar=bool(verbose),
            )

        with _quiet(verbose), single_threaded_blas(), ThreadPoolExecutor(_cores(chains)) as pool:
            results = [
                self._result(trace, 1, draws) for trace in pool.map(run_chain, range(chains))
            ]
        return NUTSResult(
            draws=np.concatenate([result.draws for result in results]),
            divergences=sum(result.divergences for result in results),
        )

    def _by_name(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """A point of the flat layout as the model's free variables, by name (the
        groups' spreads as their logs, as in the flat layout)."""
        sizes = [int(np.prod(shape)) for shape in self._shapes]
        parts = np.split(np.asarray(flat, dtype=np.float64), np.cumsum(sizes)[:-1])
        return {
            name: part.reshape(shape) for name, part, shape in zip(self._names, parts, self._shapes)
        }

    def _initial_values(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """A point of the flat layout as PyMC's ``initvals``: the groups' spreads as
        themselves."""
        point = self._by_name(flat)
        if "group_scale" in point:
            point["group_scale"] = np.exp(point["group_scale"])
        return point

    def _nutpie_layout(self, flat: np.ndarray) -> np.ndarray:
        """A point of the flat layout as nutpie's flat vector: the model's free variables
        in their order, each in the sampler's coordinates (a spread's as its log, which
        the flat layout holds)."""
        point = self._by_name(flat)
        model = self.network.model
        names = [model.rvs_to_values[variable].name for variable in model.free_RVs]
        return np.concatenate([point[name.removesuffix("_log__")].ravel() for name in names])

    def _sample_pymc(
        self, data, *, starts, chains, tune, draws, target_accept, max_treedepth, seed, verbose
    ):
        import pymc as pm

        # Given starting points are used as they are: no jitter around them.
        start_settings = (
            {}
            if starts is None
            else {
                "initvals": [self._initial_values(start) for start in starts],
                "init": "adapt_diag",
            }
        )

        network = self.network
        network.set_data(data)
        try:
            with (
                network.model,
                _quiet(verbose),
                _quiet_blas_notice(),
                _exact_arithmetic(),
                single_threaded_blas(),
            ):
                trace = pm.sample(
                    draws=draws,
                    tune=tune,
                    chains=chains,
                    cores=_cores(chains),
                    random_seed=int(seed),
                    target_accept=target_accept,
                    max_treedepth=max_treedepth,
                    progressbar=bool(verbose),
                    compute_convergence_checks=False,
                    nuts_sampler="pymc",
                    **start_settings,
                )
        finally:
            network.clear_data()
        return self._result(trace, chains, draws)

    def _result(self, trace, chains: int, draws: int) -> NUTSResult:
        """Draws ``(chains, draws, n_params)`` in the layout ``w_0.ravel(), b_0, ...`` of
        either sampler's trace, and its divergences. The groups' spreads enter as their
        logs, as ADVI fits them."""
        parts = [
            np.asarray(trace.posterior[name].values, dtype=np.float64).reshape(chains, draws, -1)
            for name in self._names
        ]
        if "group_scale" in self._names:
            where = self._names.index("group_scale")
            parts[where] = np.log(parts[where])
        return NUTSResult(
            draws=np.concatenate(parts, axis=-1),
            divergences=int(np.sum(trace.sample_stats["diverging"].values)),
        )


@dataclass(frozen=True)
class NUTSDiagnostics:
    """Divergences, per-parameter R-hat and bulk ESS, and the predictions' largest R-hat."""

    n_divergences: int
    n_transitions: int
    rhat: np.ndarray
    ess: np.ndarray
    predictive_rhat: float

    def problems(self, started_apart: bool = False) -> list[str]:
        """What is wrong with the draws, with what to do about it (empty if nothing).

        ``started_apart``: the chains were started in different modes on purpose (ADVI
        members' means), so their disagreement is not a problem, and short chains from
        there are allowed more divergences."""
        problems = []
        if not started_apart and self.predictive_rhat > RHAT_WARNING:
            problems.append(
                "the chains disagree about the predictions on the training data "
                f"(predictive_rhat_={self.predictive_rhat:.2f} > {RHAT_WARNING}): raise "
                "tune and draws, or chains"
            )
        limit = STARTED_CHAINS_DIVERGENCE_WARNING if started_apart else DIVERGENCE_WARNING
        if self.n_divergences > limit * self.n_transitions:
            problems.append(
                f"{self.n_divergences} of {self.n_transitions} transitions diverged: raise "
                "target_accept (e.g. 0.99) or lower prior_scale"
            )
        return problems


def summarize_draws(
    result: NUTSResult,
    n_draws: int,
    layer_sizes: tuple[int, ...],
    activation: str,
    X,
    link,
    forward=None,
) -> tuple[Posterior, NUTSDiagnostics]:
    """The posterior to predict with (``n_draws`` kept draws) and the diagnostics.

    ``link`` maps the network's outputs to the predictions whose R-hat is reported (see
    :func:`predictive_rhat`); ``forward`` is its forward pass for other than the plain
    network (a grouped one)."""
    chains = result.draws
    if not np.all(np.isfinite(chains)):
        raise DivergenceError(
            "NUTS produced non-finite draws. Standardise the inputs (e.g. with sklearn's "
            "StandardScaler) or lower prior_scale."
        )
    n_chains, n_iter, n_params = chains.shape
    every_draw = chains.reshape(-1, n_params)
    # Interleave the chains so that evenly spaced draws take from each chain alike.
    interleaved = chains.transpose(1, 0, 2).reshape(every_draw.shape)
    posterior = Posterior(
        every_draw.mean(axis=0), every_draw.std(axis=0), draws=thin(interleaved, n_draws)
    )
    rhat, ess = split_rhat_and_ess(chains)
    diagnostics = NUTSDiagnostics(
        n_divergences=result.divergences,
        n_transitions=n_chains * n_iter,
        rhat=rhat,
        ess=ess,
        predictive_rhat=predictive_rhat(chains, layer_sizes, activation, X, link, forward),
    )
    return posterior, diagnostics


def predictive_rhat(
    chains: np.ndarray, layer_sizes, activation: str, X: np.ndarray, link, forward=None
) -> float:
    """Largest R-hat of the per-draw predictions ``link(outputs)`` over (some) training rows.

    Unlike the weights' R-hat it does not depend on which of the network's equivalent
    modes (units swapped, signs flipped) each chain settled in. ``forward(draws, X, rows,
    link)`` replaces the plain network's forward pass (a grouped network's).
    """
    rows = thin(np.arange(len(X)), PREDICTIVE_RHAT_ROWS)
    n_chains, n_iter, n_params = chains.shape
    flat = chains.reshape(-1, n_params)
    if forward is None:
        parts = iter_network_draws(flat, layer_sizes, activation, X[rows], link)
        predictions = np.concatenate(list(parts), 1)
    else:
        predictions = forward(flat, X[rows], rows, link)
    rhat, _ = split_rhat_and_ess(predictions.reshape(n_chains, n_iter, -1))
    # NaN where every draw predicts the same: a saturated row, or, if all are, stuck chains.
    rhat = rhat[np.isfinite(rhat)]
    return float(rhat.max()) if rhat.size else np.inf


def _cores(chains: int) -> int:
    """Chains run at once: one inside a worker process (no nested pools), else one per core."""
    if multiprocessing.parent_process() is not None:
        return 1
    return max(1, min(chains, os.cpu_count() or 1))


@contextmanager
def _quiet(verbose: bool):
    """Silence the samplers' log lines and warnings unless ``verbose``."""
    if verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in ("pymc", "pymc.sampling", "nutpie")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


SAMPLERS = _EnginePool(POOL_SIZE, build=CompiledNUTS)


def split_rhat_and_ess(chains: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank-normalised split R-hat and bulk ESS (ArviZ) of each column of ``(chains, draws, k)``."""
    # ArviZ 0.x announces its refactor on import, and logs notes on short chains through a
    # logger of its own (``arviz._log``, not registered with ``logging``).
    with _quiet(verbose=False):
        import arviz as az

        arviz_logger = getattr(az, "_log", logging.getLogger("arviz"))
        level = arviz_logger.level
        arviz_logger.setLevel(logging.ERROR)
        try:
            return _rhat_and_ess(chains)
        finally:
            arviz_logger.setLevel(level)


def _rhat_and_ess(chains: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import arviz as az

    if int(az.__version__.split(".")[0]) >= 1:
        return np.asarray(az.rhat(chains)), np.asarray(az.ess(chains))
    dataset = az.convert_to_dataset(chains)
    return az.rhat(dataset)["x"].values, az.ess(dataset)["x"].values
