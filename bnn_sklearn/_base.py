"""The scikit-learn lifecycle shared by the Bayesian MLP estimators.

Parameters and their validation, ``fit`` and ``partial_fit`` (ADVI, warm starts, early
stopping) or NUTS, the fitted state as plain NumPy arrays, and its checks when a model is
loaded. A subclass says what differs: how targets are encoded (and which likelihood they
get), and which likelihood a fitted state has: the likelihood carries the link from the
network's outputs to predictions and the validation loss.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import Interval, StrOptions, _check_sample_weight
from ._families import FAMILIES
from ._groups import (
    GroupLayout,
    check_group_layers,
    encode_groups,
    group_codes,
    grouped_predictive_draws,
)
from ._likelihoods import LIKELIHOODS, Likelihood
from ._posterior import (
    ACTIVATIONS,
    Posterior,
    ValidationLoss,
    flatten_layers,
    n_parameters,
    parameter_draws,
    predictive_draws,
    unflatten_layers,
)
from ._priors import NetworkPrior, prior_from_draws
from ._warnings import warn_at_caller

#: With ``batch_size="auto"``, data sets with more rows, or more rows x features (the cost
#: of a full-batch step), than these are fitted by minibatch ADVI.
AUTO_FULL_BATCH_ROWS = 2048
AUTO_FULL_BATCH_CELLS = 32768
#: Minibatch size chosen by ``batch_size="auto"`` for large data sets.
AUTO_BATCH_SIZE = 256


def effective_batch_size(
    batch_size: int | str | None, shape: tuple[int, int], partial: bool = False
) -> int | None:
    """Rows per ADVI step for a ``batch_size`` parameter and data of ``shape``, None for
    full batch.

    "auto" is full batch up to ``AUTO_FULL_BATCH_ROWS`` rows and ``AUTO_FULL_BATCH_CELLS``
    rows x features, minibatches of ``AUTO_BATCH_SIZE`` rows above. For partial_fit
    (``partial``), "auto" means minibatches of ``AUTO_BATCH_SIZE`` rows whatever the
    chunk's size (streaming is the minibatch regime). An integer of at least the number of
    rows means full batch.
    """
    n_samples, n_features = shape
    if batch_size == "auto":
        if partial:
            small = n_samples <= AUTO_BATCH_SIZE
        else:
            small = n_samples <= AUTO_FULL_BATCH_ROWS
            small = small and n_samples * n_features <= AUTO_FULL_BATCH_CELLS
        return None if small else AUTO_BATCH_SIZE
    if batch_size is None or batch_size >= n_samples:
        return None
    return int(batch_size)


#: Version of the pickled fitted state: 1 in bnn_sklearn 0.1, 2 since partial_fit and
#: early stopping added attributes, 3 since NUTS added draws and diagnostics, 4 since
#: grouped fits added the groups' posterior, 5 since ``method="auto"`` added ``method_``.
#: Bump it when fitted attributes change.
STATE_FORMAT = 5
#: The fitted attributes of both estimators, with the state format that added each
#: (models saved before it load with None); each estimator adds its own
#: (``_own_fitted_attributes``).
FITTED_ATTRIBUTES = {
    "coefs_mean_": 1,
    "intercepts_mean_": 1,
    "coefs_std_": 1,
    "intercepts_std_": 1,
    "posterior_cholesky_": 1,
    "loss_curve_": 1,
    "n_iter_": 1,
    "draws_seed_": 1,
    "validation_loss_": 2,
    "best_validation_loss_": 2,
    "n_samples_seen_": 2,
    "posterior_draws_": 3,
    "n_divergences_": 3,
    "rhat_": 3,
    "ess_": 3,
    "predictive_rhat_": 3,
    "groups_": 4,
    "group_layers_": 4,
    "group_log_scale_mean_": 4,
    "group_log_scale_std_": 4,
    "group_offsets_mean_": 4,
    "group_offsets_std_": 4,
    "method_": 5,
}
#: Where a grouped fit starts the spreads between groups (the mean of each one's log is the
#: log of this); the groups' offsets start at 0.
INITIAL_GROUP_SCALE = 0.1
#: Most posterior draws behind each early-stopping check of the validation loss.
EARLY_STOPPING_DRAWS = 100
#: ``max_iter="auto"`` by method: ADVI's own fits, and MILE's members (which NUTS moves on
#: from; shorter members fitted as well or better on the UCI benchmark, in less time).
MAX_ITER_DEFAULTS = {"advi": 20000, "fullrank_advi": 20000, "mile": 5000}
#: The methods that sample with NUTS, and what their sampler parameters' "auto" means:
#: ``method="nuts"`` runs long chains from PyMC's start; ``method="mile"`` one short chain
#: from each of ``chains`` ADVI members' means (chosen on the UCI benchmark: shallower
#: trees saturated and lost most of the gain, deeper ones cost two to three times as much
#: per split; 300 tuning steps fitted better than 150 on all four sets).
SAMPLER_DEFAULTS = {
    "nuts": {"chains": 2, "tune": 500, "draws": 250, "target_accept": 0.95, "max_treedepth": 8},
    "mile": {"chains": 4, "tune": 300, "draws": 100, "target_accept": 0.8, "max_treedepth": 6},
}


@dataclass(frozen=True)
class FitRecord:
    """What a fit found, for :meth:`BaseBayesianMLP._write_fitted_state` to keep.

    The network's layer sizes and posterior, the iterations run (ADVI's, with those of
    the fits it continued; NUTS's tuning and kept draws per chain) and the rows seen; the
    loss of every ADVI iteration and the early-stopping scores; the NUTS diagnostics
    (None for ADVI); the warnings to give once the state is written.
    """

    layer_sizes: tuple[int, ...]
    posterior: Posterior
    n_iter: int
    n_samples_seen: int
    loss_curve: np.ndarray | None = None
    validation_losses: np.ndarray | None = None
    n_divergences: int | None = None
    rhat: np.ndarray | None = None
    ess: np.ndarray | None = None
    predictive_rhat: float | None = None
    warnings: tuple[str, ...] = ()
    groups: GroupData | None = None


@dataclass(frozen=True)
class GroupData:
    """The groups of a grouped fit: their sorted labels, each row's index into them, and
    the layers that vary by group."""

    labels: np.ndarray
    index: np.ndarray
    layers: tuple[int, ...]

    def layout(self, layer_sizes: tuple[int, ...], n_extra: int) -> GroupLayout:
        return GroupLayout(layer_sizes, self.layers, len(self.labels), n_extra)


class _Seeds(NamedTuple):
    """The seeds a fit draws from ``random_state``, in this order."""

    init: int
    fit: int
    draws: int
    split: int


@dataclass
class Targets:
    """Encoded training targets and what they fix.

    ``y`` as the likelihood reads it, the row weights (class weights folded in), the
    likelihood's name and the network's number of outputs, whether a validation split
    should be stratified on ``y``, and the fitted attributes the targets define (written
    only when the fit succeeds).
    """

    y: np.ndarray
    sample_weight: np.ndarray
    likelihood: str
    n_outputs: int
    stratify: bool
    state: dict[str, Any] = field(default_factory=dict)


class BaseBayesianMLP(BaseEstimator):
    """Bayesian multilayer perceptron: what the classifier and the regressor share.

    Not for direct use; see :class:`~bnn_sklearn.BayesianMLPClassifier` and
    :class:`~bnn_sklearn.BayesianMLPRegressor` for the parameters.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "prior_scale": [Interval(Real, 0, None, closed="neither")],
        "method": [StrOptions({*FAMILIES, *SAMPLER_DEFAULTS, "auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_draws": [Interval(Integral, 1, None, closed="left")],
        "prediction_dtype": [StrOptions({"float64", "float32"})],
        "chains": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "tune": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "draws": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "target_accept": [Interval(Real, 0, 1, closed="neither"), StrOptions({"auto"})],
        "max_treedepth": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "nuts_sampler": [StrOptions({"auto", "nutpie", "pymc"})],
        "init_std": [Interval(Real, 0, None, closed="neither")],
        "group_layers": [StrOptions({"all", "last"}), "array-like"],
        "prior": [NetworkPrior, None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: Whether ``validate_data`` should convert the targets to numbers.
    _numeric_targets = False
    #: The estimator's own fitted attributes (of its targets and likelihood), with the
    #: state format that added each, beside :data:`FITTED_ATTRIBUTES`.
    _own_fitted_attributes: dict[str, int] = {}
    #: What ``method="auto"`` samples with where sampling is cheap (see
    #: :meth:`_fit_method`); None: ``"auto"`` is always mean-field ADVI.
    _auto_sampled_method: str | None = None

    def __init__(
        self,
        *,
        hidden_layer_sizes,
        activation,
        prior_scale,
        method,
        batch_size,
        max_iter,
        learning_rate,
        tol,
        n_iter_no_change,
        early_stopping,
        validation_fraction,
        n_draws,
        prediction_dtype,
        chains,
        tune,
        draws,
        target_accept,
        max_treedepth,
        nuts_sampler,
        init_std,
        group_layers,
        prior,
        warm_start,
        random_state,
        verbose,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.prior_scale = prior_scale
        self.method = method
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_draws = n_draws
        self.prediction_dtype = prediction_dtype
        self.chains = chains
        self.tune = tune
        self.draws = draws
        self.target_accept = target_accept
        self.max_treedepth = max_treedepth
        self.nuts_sampler = nuts_sampler
        self.init_std = init_std
        self.group_layers = group_layers
        self.prior = prior
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # What a subclass defines.

    def _encode_targets(self, y, sample_weight, *, continuing, incremental, classes) -> Targets:
        raise NotImplementedError

    def _fitted_likelihood(self) -> Likelihood:
        """The likelihood of the fitted network, from the fitted state."""
        raise NotImplementedError

    def _target_problems(self) -> list[str]:
        """What is wrong with the fitted state of the targets' encoding."""
        return []

    def _extra_posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Means and sds of the likelihood's own parameters (empty if it has none)."""
        return np.empty(0), np.empty(0)

    def _extra_state(self, mean: np.ndarray, std: np.ndarray) -> dict[str, Any]:
        """The fitted attributes of the likelihood's own parameters' posterior."""
        return {}

    # Fitting.

    def _partial_fit_available(self) -> bool:
        if self.method in SAMPLER_DEFAULTS:
            raise AttributeError(
                f"partial_fit is not available with method={self.method!r}: NUTS samples the "
                "posterior from the whole data at once. Use fit, or method='advi' to stream "
                "chunks."
            )
        return True

    def _check_total_size(self, total_size) -> None:
        if total_size is not None and not (isinstance(total_size, Integral) and total_size > 0):
            raise ValueError(f"total_size must be a positive integer, got {total_size!r}.")

    def _fit(
        self,
        X,
        y,
        sample_weight,
        *,
        continuing,
        incremental,
        classes=None,
        total_size=None,
        groups=None,
    ):
        # On any error or interrupt the estimator is left exactly as it was.
        before = dict(self.__dict__)
        try:
            return self._fit_unguarded(
                X, y, sample_weight, continuing, incremental, classes, total_size, groups=groups
            )
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit_unguarded(
        self, X, y, sample_weight, continuing, incremental, classes, total_size, groups=None
    ):
        # PyMC is imported here, not at module level: prediction never needs it.
        from ._network import Architecture

        self._check_method_options(continuing)
        self._check_group_options(groups, continuing)
        hidden = self._validate_hidden_layer_sizes()
        X, y = validate_data(
            self, X, y, dtype=np.float64, reset=not continuing, y_numeric=self._numeric_targets
        )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        grouping = None
        if groups is not None:
            labels, index = encode_groups(groups, X.shape[0])
            grouping = GroupData(
                labels, index, check_group_layers(self.group_layers, len(hidden) + 1)
            )
        targets = self._encode_targets(
            y, sample_weight, continuing=continuing, incremental=incremental, classes=classes
        )
        fit_method = self._fit_method(X.shape, incremental=incremental)

        def architecture(batch_size, method=fit_method):
            return Architecture(
                X.shape[1],
                hidden,
                self.activation,
                targets.n_outputs,
                method,
                batch_size,
                targets.likelihood,
                () if grouping is None else grouping.layers,
                0 if grouping is None else len(grouping.labels),
                self.prior is not None,
            )

        if self.prior is not None:
            self.prior.check(architecture(None).layer_sizes, targets.likelihood)

        rng = check_random_state(self.random_state)
        seeds = _Seeds(*(int(seed) for seed in rng.randint(np.iinfo(np.int32).max, size=4)))
        if fit_method == "nuts":
            record = self._fit_nuts(architecture(None), targets, X, seeds, grouping=grouping)
        elif fit_method == "mile":
            record = self._fit_mile(architecture, targets, X, seeds, grouping=grouping)
        else:
            record = self._fit_advi(
                architecture,
                targets,
                X,
                seeds,
                continuing,
                incremental,
                total_size,
                grouping=grouping,
            )
        self._write_fitted_state(targets.state, record, seeds.draws, fit_method)
        for message in record.warnings:
            warn_at_caller(message, ConvergenceWarning)
        return self

    def _fit_method(self, shape, *, incremental) -> str:
        """The method this fit uses: ``method``, with ``"auto"`` resolved.

        ``"auto"`` samples (:attr:`_auto_sampled_method`) where the data make one full
        batch (``batch_size``), for a fit from scratch without warm start or early
        stopping, grouped or not; everything else (streaming, continued or minibatch fits)
        is mean-field ADVI, which does them all.
        """
        if self.method != "auto":
            return self.method
        sampled = self._auto_sampled_method
        if (
            sampled is None
            or incremental
            or self.warm_start
            or self.early_stopping
            or effective_batch_size(self.batch_size, shape) is not None
        ):
            return "advi"
        return sampled

    def _fit_advi(
        self,
        architecture,
        targets: Targets,
        X,
        seeds,
        continuing,
        incremental,
        total_size,
        grouping: GroupData | None = None,
        member_of: str | None = None,
    ) -> FitRecord:
        """Fit the variational posterior with ADVI, from a fresh start or the fitted one
        (a member of a ``member_of`` fit's ensemble, if given)."""
        y, sample_weight = targets.y, targets.sample_weight
        layer_sizes = architecture(None).layer_sizes
        fit_seed = seeds.fit
        previous_losses = self.loss_curve_ if continuing else np.empty(0)
        if continuing:  # fresh noise for every continuation, still set by random_state
            fit_seed = np.random.SeedSequence([fit_seed, len(previous_losses)]).generate_state(1)[0]

        monitor = None
        if self.early_stopping and not incremental:
            X, X_val, y, y_val, sample_weight, weight_val = train_test_split(
                X,
                y,
                sample_weight,
                test_size=self.validation_fraction,
                stratify=y if targets.stratify else None,
                random_state=seeds.split,
            )
            monitor = ValidationLoss(
                X_val,
                y_val,
                weight_val,
                layer_sizes,
                self.activation,
                min(self.n_draws, EARLY_STOPPING_DRAWS),
                seeds.draws,
                LIKELIHOODS[targets.likelihood],
            )
        arch = architecture(effective_batch_size(self.batch_size, X.shape, partial=incremental))
        if continuing:
            init = self._current_posterior(arch)
        else:
            mean = _initial_means(layer_sizes, targets.likelihood, seeds.init)
            if self.prior is not None:  # start from what the prior's model learnt
                mean[: self.prior.mean.size] = self.prior.mean
            if grouping is not None:
                mean = _initial_group_means(mean, grouping.layout(layer_sizes, _n_extra(targets)))
            init = Posterior(mean, np.full(mean.size, self.init_std))
        if incremental:  # one pass over the chunk, no stopping rule
            n_samples_seen = X.shape[0] + (getattr(self, "n_samples_seen_", None) or 0)
            max_iter = -(-X.shape[0] // (arch.batch_size or X.shape[0]))
            tol, total_size = None, total_size or n_samples_seen
        else:
            n_samples_seen = total_size = X.shape[0]
            max_iter, tol = self._max_iter(member_of), self.tol
        result = self._run_advi(
            arch,
            X,
            y,
            sample_weight=sample_weight,
            total_size=total_size,
            prior_scale=self._prior_scale(),
            learning_rate=self.learning_rate,
            init=init,
            seed=int(fit_seed),
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=self.n_iter_no_change,
            monitor=monitor,
            verbose=bool(self.verbose),
            **({} if grouping is None else {"group_index": grouping.index}),
            **self._prior_settings(),
        )
        # float32: the curve is for plotting and diagnosis, and most of a pickle's bytes.
        loss_curve = np.concatenate([previous_losses, result.losses]).astype(np.float32)
        warnings = []
        if monitor is None and not incremental:
            warnings += self._loss_give_back_problems(loss_curve)
        if tol is not None and not result.converged:
            warnings.append(
                f"ADVI did not converge in max_iter={max_iter} iterations; increase "
                "max_iter or learning_rate, or loosen tol."
            )
        return FitRecord(
            layer_sizes=arch.layer_sizes,
            posterior=result.posterior,
            n_iter=len(loss_curve),
            n_samples_seen=n_samples_seen,
            loss_curve=loss_curve,
            validation_losses=result.validation_losses,
            warnings=tuple(warnings),
            groups=grouping,
        )

    def _check_method_options(self, continuing: bool) -> None:
        """Refuse, before any work, options that the chosen method cannot honour."""
        if self.method == "mile":
            if self.warm_start:
                raise ValueError(
                    "method='mile' does not support warm_start=True: it fits its ADVI members "
                    "and samples from them afresh. Use method='advi' for continued fits."
                )
            return
        if self.method != "nuts":
            if continuing and getattr(self, "posterior_draws_", None) is not None:
                raise ValueError(
                    "Cannot continue ADVI from a posterior sampled by NUTS: set "
                    "warm_start=False (or start partial_fit on a fresh estimator)."
                )
            return
        refused = {
            "early_stopping=True": self.early_stopping,
            "warm_start=True": self.warm_start,
            f"batch_size={self.batch_size!r}": isinstance(self.batch_size, Integral),
        }
        for option, used in refused.items():
            if used:
                raise ValueError(
                    f"method='nuts' does not support {option}: NUTS samples the posterior "
                    "from scratch using every row at every step. Use method='advi' for "
                    "streaming, continued fits, early stopping or minibatches, or drop "
                    "the option (batch_size='auto' or None) to sample with NUTS."
                )

    def _max_iter(self, member_of: str | None) -> int:
        """ADVI's iterations at most: ``max_iter``, "auto" resolved for ADVI's own fits or
        for the members of a ``member_of`` fit."""
        if self.max_iter != "auto":
            return self.max_iter
        return MAX_ITER_DEFAULTS[member_of or "advi"]

    def _sampler_settings(self, method: str) -> dict[str, int | float]:
        """chains, tune, draws, target_accept and max_treedepth, "auto" resolved for
        ``method`` (the fit's)."""
        defaults = SAMPLER_DEFAULTS[method]
        return {
            name: default if getattr(self, name) == "auto" else getattr(self, name)
            for name, default in defaults.items()
        }

    def _prior_settings(self) -> dict:
        """The informed prior's means and sds for the inference engine (none without)."""
        return {} if self.prior is None else {"prior": (self.prior.mean, self.prior.sd)}

    def _check_group_options(self, groups, continuing: bool) -> None:
        """Refuse, before any work, what a grouped fit cannot do (or a fit that would
        continue a grouped one)."""
        grouped_before = continuing and getattr(self, "groups_", None) is not None
        if groups is None and not grouped_before:
            return
        if continuing:
            raise ValueError(
                "A grouped fit cannot be continued (warm_start or partial_fit), nor can an "
                "ungrouped fit be continued with groups: set warm_start=False to fit afresh."
            )
        if self.early_stopping:
            raise ValueError(
                "early_stopping=True does not support groups: its held-out rows would need "
                "their groups' networks. Fit with early_stopping=False (the stopping rule on "
                "the training loss, tol, still applies)."
            )

    def _fit_nuts(self, arch, targets: Targets, X, seeds, grouping=None) -> FitRecord:
        """Sample the posterior with NUTS; keep its draws and diagnostics."""
        return self._sample(
            arch,
            targets,
            X,
            seed=seeds.fit,
            settings=self._sampler_settings("nuts"),
            grouping=grouping,
        )

    def _fit_mile(self, architecture, targets: Targets, X, seeds, grouping=None) -> FitRecord:
        """ADVI members from different starts, then one short NUTS chain from each
        member's mean; the draws of all chains are the posterior (the MILE recipe). A
        grouped network's members and chains are grouped alike."""
        from ._nuts import resolve_sampler

        resolve_sampler(self.nuts_sampler)  # a missing sampler is refused before the members
        n_members = self._sampler_settings("mile")["chains"]
        member_seeds = np.random.SeedSequence([seeds.init, seeds.fit]).generate_state(
            n_members * len(seeds)
        )
        starts = []
        for member in member_seeds.reshape(n_members, len(seeds)):
            record = self._fit_advi(
                partial(architecture, method="advi"),
                targets,
                X,
                _Seeds(*(int(seed) for seed in member)),
                continuing=False,
                incremental=False,
                total_size=None,
                grouping=grouping,
                member_of="mile",
            )
            starts.append(record.posterior.mean)
        # The members' own warnings (ADVI stopped early, or unstable) are left out: NUTS
        # moves each chain on from its start, and its diagnostics are what counts.
        return self._sample(
            architecture(None, method="nuts"),
            targets,
            X,
            seed=seeds.fit,
            settings=self._sampler_settings("mile"),
            starts=np.stack(starts),
            grouping=grouping,
        )

    def _sample(
        self, arch, targets: Targets, X, *, seed, settings, starts=None, grouping=None
    ) -> FitRecord:
        """Sample with NUTS under the sampler ``settings`` (from ``starts``, one chain
        each, if given; a grouped network with ``grouping``); the record of its draws and
        diagnostics."""
        from ._nuts import SAMPLERS, resolve_sampler, summarize_draws

        sampler = resolve_sampler(self.nuts_sampler)
        forward = None
        if grouping is not None:
            layout = grouping.layout(arch.layer_sizes, _n_extra(targets))
            forward = _grouped_forward(layout, self.activation, grouping.index)
        with SAMPLERS.engine(arch) as model:
            result = model.sample(
                X,
                targets.y,
                group_index=None if grouping is None else grouping.index,
                **self._prior_settings(),
                sample_weight=targets.sample_weight,
                prior_scale=self._prior_scale(),
                sampler=sampler,
                seed=seed,
                verbose=bool(self.verbose),
                starts=starts,
                **settings,
            )
        posterior, diagnostics = summarize_draws(
            result,
            self.n_draws,
            arch.layer_sizes,
            self.activation,
            X,
            LIKELIHOODS[arch.likelihood].rhat_link,
            forward=forward,
        )
        problems = diagnostics.problems(started_apart=starts is not None)
        return FitRecord(
            layer_sizes=arch.layer_sizes,
            posterior=posterior,
            n_iter=settings["tune"] + settings["draws"],
            n_samples_seen=X.shape[0],
            n_divergences=diagnostics.n_divergences,
            rhat=diagnostics.rhat,
            ess=diagnostics.ess,
            predictive_rhat=diagnostics.predictive_rhat,
            warnings=("NUTS diagnostics: " + "; ".join(problems) + ".",) if problems else (),
            groups=grouping,
        )

    def _fitted_posterior(self) -> tuple[tuple[int, ...], Posterior]:
        """Layer sizes and posterior of the fitted network (likelihood parameters next, then
        a grouped network's spreads and offsets)."""
        layer_sizes = (self.n_features_in_, *(b.size for b in self.intercepts_mean_))
        extra_mean, extra_std = self._extra_posterior()
        mean = np.r_[flatten_layers(self.coefs_mean_, self.intercepts_mean_), extra_mean]
        std = np.r_[flatten_layers(self.coefs_std_, self.intercepts_std_), extra_std]
        if getattr(self, "groups_", None) is not None:
            mean = np.r_[mean, self.group_log_scale_mean_.ravel(), self.group_offsets_mean_.ravel()]
            std = np.r_[std, self.group_log_scale_std_.ravel(), self.group_offsets_std_.ravel()]
        return layer_sizes, Posterior(mean, std, self.posterior_cholesky_, self.posterior_draws_)

    def _group_layout(self) -> GroupLayout:
        """Where the fitted groups' parameters sit in the fitted posterior."""
        layer_sizes = (self.n_features_in_, *(b.size for b in self.intercepts_mean_))
        n_extra = np.size(self._extra_posterior()[0])
        layers = tuple(int(i) for i in self.group_layers_)
        return GroupLayout(layer_sizes, layers, len(self.groups_), n_extra)

    def _current_posterior(self, arch) -> Posterior:
        """The fitted posterior, to continue from; its shape must match ``arch``."""
        layer_sizes, posterior = self._fitted_posterior()
        if layer_sizes != arch.layer_sizes:
            raise ValueError(
                f"Cannot continue fitting: the fitted network has layer sizes {layer_sizes}, "
                f"the current parameters give {arch.layer_sizes}. Set warm_start=False (or "
                "start partial_fit on a fresh estimator) to fit afresh."
            )
        return posterior

    @classmethod
    def _fitted_attributes(cls) -> dict[str, int]:
        """Every fitted attribute, with the state format that added it."""
        return FITTED_ATTRIBUTES | cls._own_fitted_attributes

    def _write_fitted_state(
        self, target_state: dict, record: FitRecord, draws_seed, method: str
    ) -> None:
        """Set every fitted attribute from the record of a fit by ``method``."""
        layer_sizes, posterior = record.layer_sizes, record.posterior
        n_layer_params = n_parameters(layer_sizes)
        mean, std = posterior.mean, posterior.std
        group_state = dict.fromkeys(
            [
                "groups_",
                "group_layers_",
                "group_log_scale_mean_",
                "group_log_scale_std_",
                "group_offsets_mean_",
                "group_offsets_std_",
            ]
        )
        if record.groups is not None:
            grouping = record.groups
            without_extra = grouping.layout(layer_sizes, 0)
            layout = grouping.layout(layer_sizes, mean.size - without_extra.size)
            (mean, *group_mean), (std, *group_std) = layout.split(mean), layout.split(std)
            group_state = {
                "groups_": grouping.labels,
                "group_layers_": np.array(grouping.layers, dtype=np.int64),
                "group_log_scale_mean_": group_mean[0].reshape(-1, 2),
                "group_log_scale_std_": group_std[0].reshape(-1, 2),
                "group_offsets_mean_": group_mean[1],
                "group_offsets_std_": group_std[1],
            }
        coefs_mean, intercepts_mean = unflatten_layers(mean, layer_sizes)
        coefs_std, intercepts_std = unflatten_layers(std, layer_sizes)
        validation_losses = record.validation_losses
        state = {
            **target_state,
            "coefs_mean_": coefs_mean,
            "intercepts_mean_": intercepts_mean,
            "coefs_std_": coefs_std,
            "intercepts_std_": intercepts_std,
            **self._extra_state(mean[n_layer_params:], std[n_layer_params:]),
            "posterior_cholesky_": posterior.cholesky,
            "posterior_draws_": posterior.draws,
            "loss_curve_": record.loss_curve,
            "n_iter_": record.n_iter,
            "validation_loss_": validation_losses,
            "best_validation_loss_": (
                None if validation_losses is None else float(validation_losses.min())
            ),
            "n_samples_seen_": record.n_samples_seen,
            "n_divergences_": record.n_divergences,
            "rhat_": record.rhat,
            "ess_": record.ess,
            "predictive_rhat_": record.predictive_rhat,
            "draws_seed_": int(draws_seed),
            "method_": method,
            **group_state,
        }
        declared = self._fitted_attributes()
        if state.keys() != declared.keys():
            raise RuntimeError(
                f"Fitted attributes {sorted(state.keys() ^ declared.keys())} are written but "
                "not declared, or declared but not written."
            )
        for name in declared:
            setattr(self, name, state[name])

    def _prior_scale(self) -> float:
        """The prior's standard deviation this fit uses (subclasses resolve ``"auto"``)."""
        return self.prior_scale

    def _loss_give_back_problems(self, loss_curve: np.ndarray) -> list[str]:
        """A warning when ADVI's loss ended far above its best point (a learning rate too
        high for the data, or unscaled inputs): the fitted posterior is not the best one
        seen."""
        from ._inference import UNSTABLE_GIVE_BACK, loss_give_back

        give_back = loss_give_back(loss_curve)
        if give_back <= UNSTABLE_GIVE_BACK:
            return []
        where = (
            "above where it started"
            if give_back > 1
            else f"{give_back:.0%} of the way back from its best point to its start"
        )
        return [
            f"ADVI was unstable: its loss ended {where}, so the fit is poor. Standardise the "
            f"inputs (e.g. with sklearn's StandardScaler) or lower learning_rate (it is "
            f"{self.learning_rate:g})."
        ]

    def _run_advi(self, arch, X, y, **settings):
        """Fit ADVI with a pooled compiled engine (the benchmarks swap in stock ``pm.fit``)."""
        from ._inference import ENGINES

        with ENGINES.engine(arch) as engine:
            return engine.fit(arch, X, y, **settings)

    # Informed priors.

    def _prior_target(self) -> dict:
        """The target's standardisation a prior carries (a regressor's; none here)."""
        return {}

    def as_prior(self, group=None) -> NetworkPrior:
        """This model's posterior of the weights, as the prior of a new fit (transfer).

        Pass the result as ``prior=`` to a new estimator of the same ``hidden_layer_sizes``
        fitted to data with the same features and outputs: each weight and bias then has
        the prior ``Normal(mean, sd)`` of its posterior here, in place of
        ``Normal(0, prior_scale)``, and the fit starts from those means. With few rows, a
        network that starts from what a related data set taught does better than one
        that starts from nothing ("Groups" in the user guide). The means and sds are those
        of the ``n_draws`` posterior draws the predict methods use; correlations between
        weights are not kept.

        Parameters
        ----------
        group : label or None, default=None
            For a model fitted with ``groups``: None gives the prior of a new group (the
            population's network with the spread between groups added, as the predict
            methods use for an unseen group); a label seen in training gives that group's
            posterior. Must be None for a model fitted without groups.

        Returns
        -------
        prior : NetworkPrior
            Independent Normal priors of every weight and bias (and, for a regressor, the
            target's standardisation, which the new fit then uses).
        """
        check_is_fitted(self)
        layer_sizes, posterior = self._fitted_posterior()
        draws = parameter_draws(posterior, self.n_draws, self.draws_seed_)
        if self.groups_ is not None:
            layout = self._group_layout()
            population, log_scale, offsets = layout.split(draws)
            codes = group_codes(None if group is None else [group], 1, self.groups_)
            if codes[0] < 0 and group is not None:
                raise ValueError(
                    f"group={group!r} was not seen in training (groups_ are "
                    f"{self.groups_.tolist()!r}); pass None for a new group's prior."
                )
            if codes[0] < 0:
                rng = np.random.default_rng([self.draws_seed_, 2])
                group_offsets = rng.standard_normal((len(draws), layout.n_offsets))
            else:
                group_offsets = offsets[:, codes[0]]
            draws = layout.network(population, log_scale, group_offsets)
        elif group is not None:
            raise ValueError(
                f"This {type(self).__name__} was fitted without groups: call as_prior() "
                "without group."
            )
        prior = prior_from_draws(draws, layer_sizes, self._fitted_likelihood().name)
        return dataclasses.replace(prior, **self._prior_target())

    # Prediction.

    def _predictive_draws(self, X, groups=None):
        """Yield the likelihood's per-draw predictions ``(n_draws, rows, ...)`` by row chunks.

        A grouped model runs each row through its group's network, and rows of groups not
        seen in training (all rows when ``groups`` is None) through a new group's.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        layer_sizes, posterior = self._fitted_posterior()
        if getattr(self, "groups_", None) is not None:
            return grouped_predictive_draws(
                posterior,
                self._group_layout(),
                self.activation,
                X,
                group_codes(groups, X.shape[0], self.groups_),
                self.n_draws,
                self.draws_seed_,
                link=self._fitted_likelihood().link,
                dtype=self.prediction_dtype,
            )
        if groups is not None:
            raise ValueError(
                f"This {type(self).__name__} was fitted without groups, so it has no "
                "group networks: predict without groups, or refit with fit(X, y, groups=...)."
            )
        return predictive_draws(
            posterior,
            layer_sizes,
            self.activation,
            X,
            self.n_draws,
            self.draws_seed_,
            link=self._fitted_likelihood().link,
            dtype=self.prediction_dtype,
        )

    # Persistence.

    def __getstate__(self):
        # A copy: on Python >= 3.11 the inherited state is the instance's own __dict__.
        state = dict(super().__getstate__())
        state["_state_format"] = STATE_FORMAT
        return state

    def __setstate__(self, state):
        """Restore a pickled or skops-loaded estimator, checking its fitted state.

        Models saved by bnn_sklearn 0.1 (format 1) gain the parameters and attributes
        added since, at their defaults; a model from a newer format, or with arrays that
        do not fit together (a damaged or edited file), is refused with a ValueError that
        says why.
        """
        state = dict(state)
        saved_format = state.pop("_state_format", 1)
        if saved_format > STATE_FORMAT:
            raise ValueError(
                f"This model was saved by a newer bnn_sklearn (state format {saved_format}; "
                f"this version reads up to {STATE_FORMAT}). Upgrade bnn_sklearn to load it."
            )
        if "draws_seed_" in state:
            # Before "auto" (format 5), a model was fitted by its method parameter, and
            # before that parameter (format 1) by ADVI.
            state.setdefault("method_", state.get("method", "advi"))
        # Parameters added since the model was saved take their defaults.
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if parameter.default is not inspect.Parameter.empty:
                state.setdefault(name, parameter.default)
        if "draws_seed_" in state:
            # Attributes added since: None (0.1 fits saw all their rows; ADVI has no draws).
            for name, version in self._fitted_attributes().items():
                if saved_format < version:
                    state.setdefault(name, None)
        super().__setstate__(state)
        if "draws_seed_" in state:
            _check_fitted_state(self)

    def __sklearn_is_fitted__(self) -> bool:
        # validate_data sets n_features_in_ before ADVI runs; only a posterior means fitted.
        return hasattr(self, "draws_seed_")

    # Parameters.

    def _validate_hidden_layer_sizes(self) -> tuple[int, ...]:
        sizes = np.asarray(self.hidden_layer_sizes, dtype=object).ravel().tolist()
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)


def _check_fitted_state(model: BaseBayesianMLP) -> None:
    """Refuse a fitted state whose arrays do not make one consistent network."""
    missing = [name for name in model._fitted_attributes() if name not in vars(model)]
    if missing:
        raise ValueError(
            f"The saved {type(model).__name__} is damaged or was edited: it has no "
            + ", ".join(missing)
            + ". Refit the model, or load a file you trust."
        )
    try:
        sizes = (model.n_features_in_, *(b.shape[-1] for b in model.intercepts_mean_))
        extra_mean, extra_std = model._extra_posterior()
        n_params = n_parameters(sizes) + np.size(extra_mean)
        group_problems = []
        if model.groups_ is not None:
            group_problems = _group_state_problems(model, sizes)
            if not group_problems:
                n_params = model._group_layout().size
        parts = [
            *model.coefs_mean_,
            *model.coefs_std_,
            *model.intercepts_mean_,
            *model.intercepts_std_,
        ]
        expected = [(a, b) for a, b in pairwise(sizes)] * 2 + [(b,) for b in sizes[1:]] * 2
        problems = group_problems + [
            f"an array of shape {np.shape(part)} where {shape} belongs"
            for part, shape in zip(parts, expected)
            if np.shape(part) != shape
        ]
        if len(parts) != len(expected):
            problems.append("a different number of weight and bias arrays")
        if np.shape(extra_mean) != np.shape(extra_std):
            problems.append("likelihood parameters with means and sds of other shapes")
        parts += [extra_mean, extra_std]
        if not all(np.all(np.isfinite(part)) for part in parts):
            problems.append("non-finite posterior parameters")
        # A Gaussian needs sd > 0; the sd of sampled draws is 0 where only one was drawn.
        sampled = model.posterior_draws_ is not None
        for part in (*model.coefs_std_, *model.intercepts_std_, extra_std):
            if np.any(np.asarray(part) < 0) or (not sampled and np.any(np.asarray(part) == 0)):
                problems.append("non-positive posterior standard deviations")
                break
        problems += model._target_problems()
        if model.method_ not in (*FAMILIES, *SAMPLER_DEFAULTS):
            problems.append(f"an unknown fitting method {model.method_!r}")
        likelihood = model._fitted_likelihood()
        n_classes = len(model.classes_) if is_classifier(model) else None
        output_problems = likelihood.output_problems(sizes[-1], n_classes)
        n_extra = len(likelihood.extra_parameters)
        if not output_problems and np.shape(extra_mean) != (n_extra,):
            output_problems = [f"likelihood parameters of shape {np.shape(extra_mean)}"]
        problems += output_problems
        cholesky = model.posterior_cholesky_
        if cholesky is not None and np.shape(cholesky) != (n_params, n_params):
            problems.append(f"a Cholesky factor of shape {np.shape(cholesky)}")
        elif cholesky is not None and not np.all(np.isfinite(cholesky)):
            problems.append("a non-finite Cholesky factor")
        draws = model.posterior_draws_
        if draws is not None:
            if np.ndim(draws) != 2 or np.shape(draws)[1] != n_params or len(draws) == 0:
                problems.append(f"posterior draws of shape {np.shape(draws)}")
            elif not np.all(np.isfinite(draws)):
                problems.append("non-finite posterior draws")
    except (AttributeError, TypeError) as error:
        problems = [f"a missing or malformed attribute ({error})"]
    if problems:
        raise ValueError(
            f"The saved {type(model).__name__} is damaged or was edited: it has "
            + "; ".join(problems)
            + ". Refit the model, or load a file you trust."
        )


def _n_extra(targets: Targets) -> int:
    """The likelihood's own parameters (beside the weights and biases)."""
    return len(LIKELIHOODS[targets.likelihood].extra_parameters)


def _initial_group_means(population: np.ndarray, layout: GroupLayout) -> np.ndarray:
    """``population``'s starting means followed by the groups': every spread at
    ``INITIAL_GROUP_SCALE``, every offset 0 (each group starts as the population)."""
    log_scale = np.full(layout.n_scales, np.log(INITIAL_GROUP_SCALE))
    offsets = np.zeros((layout.n_groups, layout.n_offsets))
    return layout.join(population, log_scale, offsets)


def _grouped_forward(layout: GroupLayout, activation: str, index: np.ndarray):
    """``forward(draws, X, rows)``: the per-draw network outputs of training rows ``rows``
    of ``X`` under flat grouped draws, each row through its group's network."""

    def forward(draws, X, rows, link):
        posterior = Posterior(draws[0], np.zeros(draws.shape[1]), draws=draws)
        chunks = grouped_predictive_draws(
            posterior, layout, activation, X, index[rows], len(draws), 0, link
        )
        return np.concatenate(list(chunks), axis=1)

    return forward


def _group_state_problems(model: BaseBayesianMLP, sizes: tuple[int, ...]) -> list[str]:
    """What is inconsistent in a grouped model's fitted state."""
    layers = np.asarray(model.group_layers_)
    n_layers = len(sizes) - 1
    if layers.ndim != 1 or not layers.size or np.any((layers < 0) | (layers >= n_layers)):
        return [f"group layers {layers.tolist()} for a network of {n_layers} layers"]
    layout = model._group_layout()
    problems = []
    if np.ndim(model.groups_) != 1 or len(model.groups_) == 0:
        problems.append(f"group labels of shape {np.shape(model.groups_)}")
    expected = {
        "group_log_scale_mean_": (len(layers), 2),
        "group_log_scale_std_": (len(layers), 2),
        "group_offsets_mean_": (layout.n_groups, layout.n_offsets),
        "group_offsets_std_": (layout.n_groups, layout.n_offsets),
    }
    for name, shape in expected.items():
        value = getattr(model, name)
        if np.shape(value) != shape:
            problems.append(f"{name} of shape {np.shape(value)} where {shape} belongs")
        elif not np.all(np.isfinite(value)):
            problems.append(f"non-finite {name}")
    return problems


def _initial_means(layer_sizes: tuple[int, ...], likelihood: str, seed: int) -> np.ndarray:
    """Glorot-uniform starting means for the weights, zeros (or the likelihood's starting
    output bias) for the biases, the prior means of the likelihood's own parameters."""
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for n_in, n_out in pairwise(layer_sizes):
        bound = np.sqrt(6.0 / (n_in + n_out))
        weights.append(rng.uniform(-bound, bound, size=(n_in, n_out)))
        biases.append(np.zeros(n_out))
    model = LIKELIHOODS[likelihood]
    if model.initial_output_bias:
        biases[-1] = np.array(model.initial_output_bias)
    extras = [mean for mean, _ in model.extra_priors]
    return np.r_[flatten_layers(weights, biases), extras]
