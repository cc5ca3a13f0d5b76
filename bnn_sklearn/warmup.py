"""Compile, once, the engines that a parallel search, a cluster or a container will need.

The first fit of an architecture on a machine compiles its engine (tens of seconds; the
later fits, in any process, load it from PyTensor's disk cache in about a second). Workers
of a ``GridSearchCV(n_jobs=...)`` or a dask cluster that start together each compile, or
wait on the cache's lock. Warm the cache first::

    python -m bnn_sklearn.warmup --features 20 --rows 50000 --hidden 16,16 32

or from Python, with the estimators you will fit::

    from bnn_sklearn.warmup import warmup
    warmup([BayesianMLPClassifier(hidden_layer_sizes=(32,))], n_features=20, n_classes=2)

An ADVI engine is compiled for each depth (number of hidden layers), activation, method,
minibatch size (or full batch) and likelihood (binary or multiclass classifier, noise
model): one warm-up fit covers every width of its layers and any number of features or
classes. NUTS compiles for each network shape (features, hidden layer sizes, classes);
MILE needs both: the ADVI engine of its members and the NUTS model of its chains (nutpie's
compiled model is kept on disk too, so later processes load it).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning

from ._base import effective_batch_size
from ._classifier import BayesianMLPClassifier
from ._inference import CHECK_INTERVAL
from ._regressor import BayesianMLPRegressor

#: Rows of the warm-up data when the estimator fits full batch.
FULL_BATCH_ROWS = 64


def warmup(
    estimators, n_features: int, *, n_samples: int | None = None, n_classes: int = 2
) -> list[tuple[str, float]]:
    """Fit each estimator once on random data of the given shape, compiling its engine.

    Parameters
    ----------
    estimators : iterable of BayesianMLPClassifier or BayesianMLPRegressor
        Unfitted or fitted; each is cloned and fitted for ``CHECK_INTERVAL`` iterations
        (NUTS: one chain of a few draws) on standard-normal inputs; for minibatch ADVI the
        data have twice the batch's rows, so the minibatch engine is built.
    n_features : int
        Columns of the data the real fits will see (after preprocessing).
    n_samples : int, default=None
        Rows the real fits will see, so that ``batch_size="auto"`` chooses full batch or
        minibatches as it will there; None: full batch.
    n_classes : int, default=2
        Classes of the classifiers' targets.

    Returns
    -------
    timings : list of (str, float)
        Each estimator's repr and the seconds its warm-up fit took.
    """
    if not (isinstance(n_features, int | np.integer) and n_features > 0):
        raise ValueError(f"n_features must be a positive integer, got {n_features!r}.")
    if n_samples is not None and not (isinstance(n_samples, int | np.integer) and n_samples > 0):
        raise ValueError(f"n_samples must be a positive integer or None, got {n_samples!r}.")
    if not (isinstance(n_classes, int | np.integer) and n_classes >= 2):
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}.")
    timings = []
    for estimator in estimators:
        if not isinstance(estimator, BayesianMLPClassifier | BayesianMLPRegressor):
            raise TypeError(f"Only this package's estimators can be warmed up, got {estimator!r}.")
        model = clone(estimator).set_params(max_iter=CHECK_INTERVAL, tol=None, n_draws=10)
        if model.method in ("nuts", "mile"):
            model.set_params(chains=1, tune=5, draws=5)
        batch_size = effective_batch_size(
            model.batch_size, (n_samples or FULL_BATCH_ROWS, n_features)
        )
        model.set_params(batch_size=batch_size)
        n_rows = FULL_BATCH_ROWS if batch_size is None else 2 * batch_size
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n_rows, n_features))
        if is_classifier(model):
            y = np.arange(n_rows) % n_classes
        else:
            y = rng.standard_normal(n_rows)
        start = time.perf_counter()
        with warnings.catch_warnings():
            # A few iterations on noise: convergence and sampler warnings say nothing here.
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)
            model.fit(X, y)
        timings.append((repr(estimator), time.perf_counter() - start))
    return timings


def _hidden(text: str) -> tuple[int, ...]:
    return tuple(int(units) for units in text.split(",") if units.strip())


def _batch(text: str):
    if text in ("none", "None"):
        return None
    return text if text == "auto" else int(text)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bnn_sklearn.warmup",
        description="Compile the engines of the given network shapes into PyTensor's disk "
        "cache, so that later fits in any process start at once.",
    )
    parser.add_argument("--features", type=int, required=True, help="input columns")
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        help="rows of the real data: batch-size auto then picks what the real fits will",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--classes", type=int, default=2, help="classes (default 2)")
    target.add_argument(
        "--regression",
        nargs="?",
        const="homoscedastic",
        choices=["homoscedastic", "heteroscedastic"],
        help="warm the regressor (with this noise model) instead of the classifier",
    )
    parser.add_argument(
        "--hidden",
        nargs="+",
        type=_hidden,
        default=[(16, 16)],
        help="hidden layer sizes, e.g. 16,16 32 (default 16,16)",
    )
    parser.add_argument("--activation", nargs="+", default=["relu"], help="default relu")
    parser.add_argument(
        "--batch-size",
        nargs="+",
        type=_batch,
        default=["auto"],
        help="none (full batch), auto, or rows per minibatch (default auto)",
    )
    parser.add_argument("--method", nargs="+", default=["advi"], choices=["advi", "mile", "nuts"])
    args = parser.parse_args(argv)
    Estimator = BayesianMLPClassifier if args.regression is None else BayesianMLPRegressor
    extra = {} if args.regression is None else {"noise": args.regression}
    estimators = [
        Estimator(
            hidden_layer_sizes=hidden,
            activation=activation,
            batch_size=batch,
            method=method,
            **extra,
        )
        for hidden in args.hidden
        for activation in args.activation
        for batch in args.batch_size
        for method in args.method
    ]
    try:
        timings = warmup(estimators, args.features, n_samples=args.rows, n_classes=args.classes)
        for description, seconds in timings:
            print(f"{seconds:6.1f} s  {description}", flush=True)
    except (ValueError, TypeError) as error:
        parser.exit(2, f"{error}\n")


if __name__ == "__main__":
    main()
