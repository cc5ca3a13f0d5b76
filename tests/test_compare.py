"""bnn_sklearn.compare: the comparison with ensembles as a function and as a command."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, make_moons
from sklearn.linear_model import BayesianRidge, LogisticRegression
from sklearn.model_selection import GroupKFold, KFold, RepeatedStratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier, BayesianMLPRegressor
from bnn_sklearn.compare import compare, main

from .conftest import FAST

CLASSIFICATION_COLUMNS = [
    "accuracy",
    "log_loss",
    "brier_score",
    "ece",
    "accuracy_rejection",
    "fit_seconds",
    "predict_seconds",
]


@pytest.fixture(scope="module")
def moons_frame():
    X, y = make_moons(120, noise=0.25, random_state=0)
    frame = pd.DataFrame(X, columns=["x1", "x2"])
    frame["site"] = np.where(np.arange(120) % 3 == 0, "north", "south")
    frame["label"] = np.where(y == 1, "inner", "outer")
    return frame


def test_scores_every_model_on_the_same_folds_as_cross_validate(moons_frame):
    X, y = moons_frame[["x1", "x2"]].to_numpy(), moons_frame["label"]
    table, predictions = compare(
        X,
        y,
        models={"BayesianMLP": BayesianMLPClassifier(**FAST), "GradientBoosting": None},
        cv=3,
        n_repeats=2,
        random_state=0,
        return_predictions=True,
    )
    assert list(table.index) == [
        "BayesianMLP",
        "RandomForest",
        "HistGradientBoosting",
        "LogisticRegression",
    ]
    for column in CLASSIFICATION_COLUMNS:
        assert np.all(np.isfinite(table[column])) and np.all(table[f"{column}_sd"] >= 0)
    assert table.loc["BayesianMLP", "accuracy"] > 0.8
    by_hand = cross_validate(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        X,
        y,
        cv=RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0),
        scoring=["accuracy", "neg_log_loss"],
    )
    logistic = table.loc["LogisticRegression"]
    assert logistic["accuracy"] == pytest.approx(by_hand["test_accuracy"].mean())
    assert logistic["log_loss"] == pytest.approx(-by_hand["test_neg_log_loss"].mean())
    assert logistic["log_loss_sd"] == pytest.approx(by_hand["test_neg_log_loss"].std())
    proba = predictions["BayesianMLP"]
    assert proba.shape == (120, 2) and np.allclose(proba.sum(axis=1), 1)


ONLY_TWINS = {
    "RandomForest": None,
    "HistGradientBoosting": None,
    "GradientBoosting": None,
    "LogisticRegression": None,
    "BayesianRidge": None,
    "BayesianMLP": None,
}


@pytest.mark.parametrize(
    "task, cv",
    [
        ("classification", 3),
        ("regression", 3),
        ("regression", KFold(3, shuffle=True)),  # a user's splitter without a seed
    ],
    ids=["stratified", "kfold", "unseeded-splitter"],
)
def test_two_identical_models_get_the_same_folds_without_a_random_state(task, cv):
    X, y = load_diabetes(return_X_y=True)
    X, y = X[:90], y[:90]
    twin = LogisticRegression(max_iter=1000) if task == "classification" else BayesianRidge()
    if task == "classification":
        y = (y > np.median(y)).astype(int)
    table, predictions = compare(
        X,
        y,
        models={**ONLY_TWINS, "first": twin, "second": clone(twin)},
        cv=cv,
        n_repeats=2,
        return_predictions=True,
    )
    scores = [column for column in table.columns if "seconds" not in column]
    assert table.loc["first", scores].to_list() == table.loc["second", scores].to_list()
    np.testing.assert_array_equal(predictions["first"], predictions["second"])


def test_group_labels_reach_a_group_splitter():
    X, y = load_diabetes(return_X_y=True)
    groups = np.arange(90) % 6
    _, predictions = compare(
        X[:90],
        y[:90],
        models={**ONLY_TWINS, "ridge": BayesianRidge()},
        cv=GroupKFold(3),
        groups=groups,
        return_predictions=True,
    )
    by_hand = np.empty(90)
    for train, test in GroupKFold(3).split(X[:90], y[:90], groups):
        assert len(np.unique(groups[test])) == 2  # whole groups held out
        pipeline = make_pipeline(StandardScaler(), BayesianRidge()).fit(X[train], y[train])
        by_hand[test] = pipeline.predict(X[test])
    np.testing.assert_allclose(predictions["ridge"], by_hand)


def test_a_continuous_target_is_compared_with_the_regressors():
    X, y = load_diabetes(return_X_y=True)
    table = compare(
        X[:150],
        y[:150],
        models={"BayesianMLP": BayesianMLPRegressor(**FAST), "GradientBoosting": None},
        cv=3,
        random_state=0,
    )
    assert list(table.index) == [
        "BayesianMLP",
        "RandomForest",
        "HistGradientBoosting",
        "BayesianRidge",
    ]
    assert {"root_mean_squared_error", "mean_absolute_error", "r2"} <= set(table.columns)
    assert np.all(table["root_mean_squared_error"] > 0)
    assert table.loc["BayesianMLP", "r2"] > 0.2


@pytest.mark.parametrize(
    "X, y, message",
    [
        (np.zeros((20, 2)), np.zeros(20), "single class"),
        (np.ones((20, 2)), np.full(20, 1.5), "constant"),
        (np.r_[[[np.nan, 1.0]], np.ones((19, 2))], np.arange(20) % 2, "column.s. 0"),
        (
            pd.DataFrame({"a": [1.0, None] * 10, "b": 1.0}),
            np.arange(20) % 2,
            r"column\(s\) a: drop or impute",
        ),
        (np.ones((6, 2)), np.linspace(0.5, 1.0, 6), "too few for 5 folds"),
        (np.ones((20, 2)), np.r_[np.zeros(18), 1, 1], "rarest class has 2 rows"),
    ],
    ids=["one-class", "constant", "nan-array", "nan-frame", "few-rows", "rare-class"],
)
def test_bad_input_is_refused_with_the_fix(X, y, message):
    with pytest.raises(ValueError, match=message):
        compare(X, y)


def test_the_command_compares_a_csv_with_text_labels_and_a_category(moons_frame, tmp_path, capsys):
    path = tmp_path / "moons.csv"
    moons_frame.to_csv(path, index=False)
    main([str(path), "--target", "label", "--cv", "3", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr()
    assert "| BayesianMLP | " in printed.out and "| LogisticRegression | " in printed.out
    assert (printed.out + printed.err).count("[CV] END") == 5 * 3  # a line per model and fold
    written = pd.read_csv(tmp_path / "out" / "compare.csv", index_col="model")
    assert written.loc["BayesianMLP", "accuracy"] > 0.8
    assert (tmp_path / "out" / "reliability.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "compare.md").read_text().startswith("`python -m bnn_sklearn")


def test_the_command_reads_parquet_and_prints_the_table_without_out(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    path = tmp_path / "diabetes.parquet"
    X.iloc[:120, :3].assign(progression=y[:120]).to_parquet(path)
    main([str(path), "--target", "progression", "--cv", "3"])
    printed = capsys.readouterr().out
    assert "| BayesianRidge | " in printed and "root_mean_squared_error" in printed
    assert not (tmp_path / "compare.csv").exists()


def test_the_command_names_the_columns_when_the_target_is_missing(moons_frame, tmp_path, capsys):
    path = tmp_path / "moons.csv"
    moons_frame.to_csv(path, index=False)
    with pytest.raises(SystemExit) as exit_info:
        main([str(path), "--target", "species"])
    assert exit_info.value.code == 2
    assert "No column 'species'" in capsys.readouterr().err
