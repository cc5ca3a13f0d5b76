"""The Bayesian network beside the models people already use, cross-validated on your data.

:func:`compare` runs scikit-learn's ``cross_validate`` over the Bayesian estimator and
tree ensembles and a linear model, with the same folds and the same preprocessing, and
returns one row per model. As a command::

    python -m bnn_sklearn.compare data.csv --target label [--cv 5] [--out results/]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import BayesianRidge, LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import (
    RepeatedKFold,
    RepeatedStratifiedKFold,
    check_cv,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.multiclass import type_of_target

from ._classifier import BayesianMLPClassifier
from ._compat import _safe_indexing, brier_score_summed
from ._regressor import BayesianMLPRegressor
from .distributions import distribution_kind, predictive_distribution
from .metrics import crps, expected_calibration_error, mean_accuracy_kept, nlpd


def classification_scores(estimator, X, y) -> dict:
    """Every classification score of :func:`compare` from one ``predict_proba`` call.

    A ``scoring`` callable for ``cross_validate``.

    Parameters
    ----------
    estimator : fitted estimator
        The model to score, with ``predict_proba`` and ``classes_``.
    X : array-like of shape (n_samples, n_features)
        Input samples of the test fold.
    y : array-like of shape (n_samples,)
        True labels.

    Returns
    -------
    scores : dict of str to float
        ``accuracy``, ``log_loss``, ``brier_score`` (summed over the classes), ``ece`` and
        ``accuracy_rejection``. Losses are losses (lower is better).
    """
    proba, labels = estimator.predict_proba(X), estimator.classes_
    return {
        "accuracy": accuracy_score(y, labels[proba.argmax(axis=1)]),
        "log_loss": log_loss(y, proba, labels=labels),
        # Summed over the classes for two classes too (0-2), as for more.
        "brier_score": brier_score_summed(y, proba, labels),
        "ece": expected_calibration_error(y, proba, labels=labels),
        "accuracy_rejection": mean_accuracy_kept(y, proba, labels=labels),
    }


def regression_scores(estimator, X, y) -> dict:
    """Every regression score of :func:`compare` from one prediction.

    A ``scoring`` callable for ``cross_validate``. The CRPS and NLPD score the predictive
    distribution of :func:`~bnn_sklearn.distributions.predictive_distribution` (the mixture
    of ``predict_distribution``, else the Normal of ``predict(X, return_std=True)``); they
    are NaN for a model with neither, and the point scores come from that distribution's
    mean.

    Parameters
    ----------
    estimator : fitted estimator
        The model to score.
    X : array-like of shape (n_samples, n_features)
        Input samples of the test fold.
    y : array-like of shape (n_samples,)
        True targets.

    Returns
    -------
    scores : dict of str to float
        ``root_mean_squared_error``, ``mean_absolute_error``, ``r2``, ``crps`` and
        ``nlpd``.
    """
    if distribution_kind(estimator) is None:
        predicted, crps_value, nlpd_value = estimator.predict(X), np.nan, np.nan
    else:
        dist = predictive_distribution(estimator, X)
        predicted, crps_value, nlpd_value = dist.mean(), crps(y, dist), nlpd(y, dist)
    return {
        "root_mean_squared_error": root_mean_squared_error(y, predicted),
        "mean_absolute_error": mean_absolute_error(y, predicted),
        "r2": r2_score(y, predicted),
        "crps": crps_value,
        "nlpd": nlpd_value,
    }


#: DataFrame column dtypes that the default preprocessing one-hot encodes.
CATEGORICAL_DTYPES = ["object", "string", "category", "bool"]
#: A float target with more distinct values than this is continuous even when every value
#: is a whole number (diabetes' progression scores are).
MAX_CLASSES_OF_FLOAT_TARGET = 20


def default_models(task: str, random_state=None) -> dict:
    """The models :func:`compare` fits when given none.

    The Bayesian network, a random forest, histogram and classic gradient boosting, and a
    linear model (logistic regression, or BayesianRidge for regression).

    Parameters
    ----------
    task : {"classification", "regression"}
        Which kind of models to return.
    random_state : int or None, default=None
        Passed to every model that takes one.

    Returns
    -------
    models : dict of str to estimator
        Unfitted models by the name they are reported under.
    """
    if task == "classification":
        return {
            "BayesianMLP": BayesianMLPClassifier(random_state=random_state),
            "RandomForest": RandomForestClassifier(random_state=random_state),
            "HistGradientBoosting": HistGradientBoostingClassifier(random_state=random_state),
            "GradientBoosting": GradientBoostingClassifier(random_state=random_state),
            "LogisticRegression": LogisticRegression(max_iter=1000),
        }
    return {
        "BayesianMLP": BayesianMLPRegressor(random_state=random_state),
        "RandomForest": RandomForestRegressor(random_state=random_state),
        "HistGradientBoosting": HistGradientBoostingRegressor(random_state=random_state),
        "GradientBoosting": GradientBoostingRegressor(random_state=random_state),
        "BayesianRidge": BayesianRidge(),
    }


def default_preprocessing(X):
    """Scale numeric columns; one-hot encode a DataFrame's text, category and bool columns.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The features :func:`compare` will see; only their type is used.

    Returns
    -------
    preprocessing : transformer
        An unfitted ``StandardScaler`` for arrays, or a ``ColumnTransformer`` for a
        DataFrame.
    """
    if not hasattr(X, "select_dtypes"):
        return StandardScaler()
    return make_column_transformer(
        (
            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            make_column_selector(dtype_include=CATEGORICAL_DTYPES),
        ),
        (StandardScaler(), make_column_selector(dtype_exclude=CATEGORICAL_DTYPES)),
    )


def compare(
    X,
    y,
    *,
    models=None,
    task="auto",
    preprocessing="auto",
    cv=5,
    n_repeats=1,
    random_state=None,
    groups=None,
    n_jobs=None,
    verbose=0,
    return_predictions=False,
):
    """Cross-validate the Bayesian network against tree ensembles and a linear model.

    Every model is fitted behind the same preprocessing on the same folds with
    scikit-learn's :func:`~sklearn.model_selection.cross_validate`. Classification
    targets are scored by accuracy, log loss, Brier score (summed over the classes, so
    between 0 and 2 for two classes as for more), expected calibration error
    (ECE) and the accuracy-rejection summary (mean accuracy on the points kept as 0-50 %
    of them, least confident first, are set aside); continuous targets by RMSE, MAE,
    R^2, and the CRPS and negative log predictive density (NLPD) of the predictive
    distribution (:func:`~bnn_sklearn.distributions.predictive_distribution`: the mixture
    for the Bayesian network, a Normal for models with ``predict(X, return_std=True)``,
    NaN for others; the ``distribution`` column says which), all from one prediction per
    fold. Fit and predict seconds (predicting a test fold and scoring it) are reported for
    both.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Features; a DataFrame may hold text, category and bool columns.
    y : array-like of shape (n_samples,)
        Class labels (any type) or a continuous target (see ``task``).
    models : dict of str to estimator, default=None
        Extra models, by the name they are reported under, added to the defaults
        (:func:`default_models`); a name that is already there replaces that model, and
        ``None`` as a value removes it. Each is fitted behind ``preprocessing``.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"``: classification for labels (text, bool, integers, or floats with at
        most 20 distinct values), regression for other numeric targets.
    preprocessing : "auto", transformer or None, default="auto"
        Fitted on each training fold in front of every model. ``"auto"``: a
        StandardScaler; for a DataFrame, one-hot encoding of its text, category and bool
        columns and a StandardScaler on the rest. None: the models see ``X`` as it is.
    cv : int or cross-validation splitter, default=5
        Folds. An int gives (stratified, for classification) K-fold repeated
        ``n_repeats`` times and shuffled with ``random_state``.
    n_repeats : int, default=1
        Repeats of an int ``cv``.
    random_state : int or None, default=None
        Seeds the folds and every default model. Whatever it is, the folds are drawn once
        and every model is fitted and scored on the same ones.
    groups : array-like of shape (n_samples,), default=None
        Group labels for a group-aware ``cv`` splitter such as
        :class:`~sklearn.model_selection.GroupKFold`.
    n_jobs : int or None, default=None
        Folds fitted in parallel (``cross_validate``'s ``n_jobs``).
    verbose : int, default=0
        1: a line per model; 2 and more: also ``cross_validate``'s line per fold.
    return_predictions : bool, default=False
        Also return each model's out-of-fold predictions (of the first repeat), from the
        fitted fold models: ``predict_proba`` for classification, ``predict`` otherwise.

    Returns
    -------
    result : pandas.DataFrame or list of dict
        One row per model with, for each score, its mean over folds and its standard
        deviation (``<score>_sd``); losses are losses (``log_loss``, ``brier_score``,
        ``ece``, ``root_mean_squared_error``, ...), lower is better. A
        DataFrame indexed by model when pandas is installed, else a list of dicts with a
        ``"model"`` key.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from bnn_sklearn.compare import compare
    >>> X, y = load_iris(return_X_y=True, as_frame=True)
    >>> table = compare(X, y, cv=3, random_state=0)  # doctest: +SKIP
    >>> table[["accuracy", "log_loss", "ece"]]  # doctest: +SKIP
    """
    task = _task_of(y, task)
    _check_features(X)
    chosen = default_models(task, random_state)
    for name, model in (models or {}).items():
        if model is None:
            chosen.pop(name, None)
        else:
            chosen[name] = model
    if not chosen:
        raise ValueError("No models to compare: models= removed every default and added none.")
    # Drawn once: a shuffling splitter without a seed draws other folds on every split().
    folds = list(_splitter(cv, n_repeats, random_state, task, y).split(X, y, groups))
    if isinstance(preprocessing, str) and preprocessing == "auto":
        preprocessing = default_preprocessing(X)
    scoring = classification_scores if task == "classification" else regression_scores
    rows, predictions = [], {}
    for name, model in chosen.items():
        pipeline = model if preprocessing is None else make_pipeline(clone(preprocessing), model)
        start = time.perf_counter()
        scores = cross_validate(
            pipeline,
            X,
            y,
            cv=folds,
            scoring=scoring,
            n_jobs=n_jobs,
            verbose=3 if verbose >= 2 else 0,  # 3: scikit-learn's line per fold
            error_score="raise",
            return_estimator=return_predictions,
            return_indices=return_predictions,
        )
        if return_predictions:
            predictions[name] = _out_of_fold(scores, X, len(y), task)
        rows.append({"model": name, **_summarise(scores)})
        if task == "regression":  # which distribution the CRPS and NLPD scored
            rows[-1]["distribution"] = distribution_kind(model) or "none"
        if verbose:
            print(
                f"{name}: {len(scores['fit_time'])} folds in {time.perf_counter() - start:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    try:
        import pandas as pd

        table = pd.DataFrame(rows).set_index("model")
    except ImportError:
        table = rows
    return (table, predictions) if return_predictions else table


def _out_of_fold(scores: dict, X, n_rows: int, task: str) -> np.ndarray:
    """Each row predicted by the fold model that did not see it (first repeat only)."""
    predicted = None
    seen = np.zeros(n_rows, dtype=bool)
    for estimator, test in zip(scores["estimator"], scores["indices"]["test"]):
        if seen[test].all():
            break  # the next repeat starts
        rows = _safe_indexing(X, test)
        values = (
            estimator.predict_proba(rows) if task == "classification" else estimator.predict(rows)
        )
        if predicted is None:
            predicted = np.full((n_rows, *values.shape[1:]), np.nan)
        predicted[test] = values
        seen[test] = True
    return predicted


def _task_of(y, task="auto") -> str:
    kind = type_of_target(y, input_name="y")
    if task == "auto" and kind == "multiclass":
        values = np.asarray(y)
        if values.dtype.kind == "f" and len(np.unique(values)) > MAX_CLASSES_OF_FLOAT_TARGET:
            kind = "continuous"
    elif task == "regression" and kind in ("binary", "multiclass"):
        if np.asarray(y).dtype.kind not in "iuf":
            raise ValueError("task='regression' needs a numeric target.")
        kind = "continuous"
    elif task == "classification" and kind == "continuous":
        raise ValueError("task='classification' needs class labels; y is continuous.")
    if kind in ("binary", "multiclass"):
        if len(np.unique(np.asarray(y))) < 2:
            raise ValueError("y has a single class: a comparison needs at least two.")
        return "classification"
    if kind == "continuous":
        if np.ptp(np.asarray(y, dtype=float)) == 0:
            raise ValueError("y is constant: there is nothing to predict.")
        return "regression"
    raise ValueError(
        f"compare handles class labels and 1-D continuous targets; y is {kind!r}. "
        "Pass one target column."
    )


def _check_features(X) -> None:
    if hasattr(X, "isna"):
        missing = [str(column) for column in X.columns[X.isna().any().to_numpy()]]
        if missing:
            raise ValueError(
                f"Missing values in column(s) {', '.join(missing)}: drop or impute them "
                "first (e.g. X.dropna() or sklearn.impute.SimpleImputer)."
            )
        return
    values = np.asarray(X)
    if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
        columns = np.flatnonzero(~np.isfinite(values).all(axis=0))
        raise ValueError(
            f"NaN or infinite values in column(s) {', '.join(map(str, columns))}: drop or "
            "impute them first."
        )


def _splitter(cv, n_repeats, random_state, task, y):
    """Repeated (stratified) K-fold for an int ``cv``, refusing folds the data cannot fill."""
    if not isinstance(cv, int | np.integer):
        return check_cv(cv, y, classifier=task == "classification")
    n_splits = int(cv)
    if len(y) < 2 * n_splits:
        raise ValueError(f"{len(y)} rows are too few for {n_splits} folds: pass a smaller cv.")
    if task == "regression":
        return RepeatedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)
    rarest = np.unique(np.asarray(y), return_counts=True)[1].min()
    if rarest < n_splits:
        raise ValueError(
            f"The rarest class has {rarest} rows, fewer than the {n_splits} folds: pass a "
            "smaller cv or drop the class."
        )
    return RepeatedStratifiedKFold(
        n_splits=n_splits, n_repeats=n_repeats, random_state=random_state
    )


def _summarise(scores: dict) -> dict:
    names = {"fit_time": "fit_seconds", "score_time": "predict_seconds"}
    row = {}
    for key, values in scores.items():
        if key in ("estimator", "indices"):
            continue
        name = names.get(key, key.removeprefix("test_"))
        row[name] = float(np.mean(values))
        row[f"{name}_sd"] = float(np.std(values))
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bnn_sklearn.compare",
        description="Cross-validate the Bayesian network against tree ensembles and a "
        "linear model on a CSV or Parquet file.",
    )
    parser.add_argument("data", type=Path, help="a .csv or .parquet file with a header row")
    parser.add_argument("--target", required=True, help="the column to predict")
    parser.add_argument(
        "--task",
        choices=["auto", "classification", "regression"],
        default="auto",
        help="what the target is (default: read from it)",
    )
    parser.add_argument("--cv", type=int, default=5, help="folds (default 5)")
    parser.add_argument("--repeats", type=int, default=1, help="repeats of the folds")
    parser.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    parser.add_argument("--n-jobs", type=int, default=None, help="folds in parallel")
    parser.add_argument("--out", type=Path, help="folder for compare.md, compare.csv and a figure")
    args = parser.parse_args(argv)
    try:
        import pandas as pd
    except ImportError:
        parser.exit(2, "The command reads files with pandas: pip install pandas\n")
    frame = _read_table(args.data, parser)
    if args.target not in frame.columns:
        parser.exit(
            2,
            f"No column {args.target!r} in {args.data}; its columns are: "
            f"{', '.join(map(str, frame.columns))}\n",
        )
    X, y = frame.drop(columns=[args.target]), frame[args.target]
    if y.isna().any():
        parser.exit(2, f"The target column {args.target!r} has missing values: drop those rows.\n")
    try:
        table, predictions = compare(
            X,
            y,
            task=args.task,
            cv=args.cv,
            n_repeats=args.repeats,
            random_state=args.seed,
            n_jobs=args.n_jobs,
            verbose=2,
            return_predictions=True,  # for the reliability diagram of --out
        )
    except ValueError as error:
        parser.exit(2, f"{error}\n")
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        print(_markdown(table, args))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "compare.md").write_text(_markdown(table, args) + "\n")
        table.to_csv(args.out / "compare.csv")
        written = ["compare.md", "compare.csv"]
        if _task_of(y, args.task) == "classification" and _write_reliability(
            predictions, y, args.out
        ):
            written.append("reliability.png")
        print(f"Wrote {', '.join(written)} to {args.out}", file=sys.stderr)


def _write_reliability(predictions: dict, y, folder: Path) -> bool:
    """A reliability diagram of every model's out-of-fold probabilities (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("No reliability.png: pip install matplotlib", file=sys.stderr)
        return False
    from .plotting import plot_reliability_diagram

    labels = np.unique(np.asarray(y))
    # About 50 rows per bin, so that a small data set's diagram is not noise.
    n_bins = int(np.clip(len(y) // 50, 5, 15))
    figure, ax = plt.subplots(figsize=(5.5, 5))
    for name, proba in predictions.items():
        plot_reliability_diagram(
            np.asarray(y), proba, labels=labels, n_bins=n_bins, ax=ax, label=name
        )
    ax.set_title(f"Out-of-fold predictions of the first repeat, {n_bins} bins")
    figure.tight_layout()
    figure.savefig(folder / "reliability.png", dpi=110)
    plt.close(figure)
    return True


def _read_table(path: Path, parser):
    import pandas as pd

    if not path.exists():
        parser.exit(2, f"No such file: {path}\n")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except ImportError as error:
        parser.exit(2, f"Reading {path.name} needs an extra package: {error}\n")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        parser.exit(2, f"Could not parse {path} as {path.suffix or 'CSV'}: {error}\n")


def _markdown(table, args) -> str:
    """The table as Markdown, each score as mean ± sd over the folds."""
    scores = [column for column in table.columns if not column.endswith("_sd")]
    lines = [
        f"`python -m bnn_sklearn.compare {args.data.name} --target {args.target} --cv {args.cv}"
        f"{f' --repeats {args.repeats}' if args.repeats > 1 else ''}`: mean ± sd over folds",
        "",
        "| model | " + " | ".join(scores) + " |",
        "|---|" + "---|" * len(scores),
    ]
    for model, row in table.iterrows():
        cells = [_cell(row, s, f"{s}_sd" in table.columns) for s in scores]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(row, column: str, has_sd: bool) -> str:
    """A score as mean ± sd, a text column (``distribution``) as it is, NaN as "n/a"."""
    if not has_sd:
        return str(row[column])
    if np.isnan(row[column]):
        return "n/a"
    return f"{row[column]:.3f} ± {row[column + '_sd']:.3f}"


if __name__ == "__main__":
    main()
