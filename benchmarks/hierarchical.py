"""Hierarchical networks over groups (Wiecki 2018) with the estimator.

18 groups; each is ``make_moons(100, noise=0.3)``, standardised and rotated by its own
angle drawn from N(0, 90 degrees); 50 rows of each group train, 50 test. A 2-5-5-1 tanh
network fitted seven ways: pooled (one network, groups ignored), separate (one network per
group), hierarchical by ADVI and by MILE (``method="mile"`` at its defaults) with the
output layer varying by group (``group_layers="last"``) or every layer (``"all"``), and
hierarchical by NUTS (every layer). Prints and
writes the test accuracy, log loss and fit seconds, means over the seeds, and the
learnt spread of each layer between groups.

Transfer to new groups: the hierarchical ADVI model (default ``group_layers``) is fitted
on all but the last ``NEW_GROUPS`` groups; each of those is then fitted on
``NEW_GROUP_ROWS`` of its training rows (half of each class) with the flat prior and with
the informed prior ``as_prior()`` of the hierarchical model (a new group's), and scored
on its 50 test rows beside the hierarchical model's population predictive (no rows of the
group at all).

Grouped regression (``--regression``): 12 groups of ``amplitude * sin(x + phase) + level``
plus noise (sd 0.2), each group's amplitude, phase and level its own; 20 training and 50
test rows per group, x uniform on [-3, 3]. Pooled, separate and hierarchical regressors
(1-16-16-1 tanh; hierarchical by ADVI and by MILE): test RMSE, mean negative log
predictive density, coverage of the central 90 % predictive intervals, fit seconds.

    python benchmarks/hierarchical.py --regression --out benchmarks/results

    python benchmarks/hierarchical.py --quick     # a smoke run: one seed, 4 groups
    python benchmarks/hierarchical.py --out benchmarks/results   # the committed results
    python benchmarks/hierarchical.py --skip-nuts # ADVI only
    python benchmarks/hierarchical.py --from-records runs/hierarchical/hierarchical.jsonl
                                                  # the table of a run's records, no fits

(``python -m benchmarks.hierarchical`` from the repository's root does the same.)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.preprocessing import scale

from bnn_sklearn import BayesianMLPClassifier

if not __package__:  # run as a file: python benchmarks/hierarchical.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])

#: Where a run writes unless told otherwise (untracked).
DEFAULT_OUT = Path("runs") / "hierarchical"
NETWORK = dict(hidden_layer_sizes=(5, 5), activation="tanh")
#: Groups held out of the hierarchical fit, and the rows each is then fitted on.
NEW_GROUPS = 6
NEW_GROUP_ROWS = 10


def rotated_moons(n_groups: int, seed: int, rows: int = 100):
    """``(X, y, groups, train)``: each group's standardised moons rotated by its own angle
    from N(0, 90 degrees); the first half of each group's rows train."""
    rng = np.random.default_rng(seed)
    parts = []
    for group in range(n_groups):
        X, y = make_moons(rows, noise=0.3, random_state=int(rng.integers(2**31)))
        angle = rng.normal(0.0, np.pi / 2)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        parts.append((scale(X) @ rotation, y, np.full(rows, group), np.arange(rows) < rows // 2))
    return tuple(np.concatenate(column) for column in zip(*parts))


def settings(quick: bool, seed: int) -> dict:
    advi = {**NETWORK, "random_state": seed}
    nuts = {**NETWORK, "method": "nuts", "random_state": seed, "target_accept": 0.9}
    mile = {**NETWORK, "method": "mile", "random_state": seed}
    if quick:
        advi.update(max_iter=300, tol=None, n_draws=100)
        nuts.update(tune=50, draws=20, chains=2)
        mile.update(max_iter=300, tune=30, draws=20, chains=2)
    else:
        nuts.update(tune=1000, draws=500, chains=2)
    return {"advi": advi, "nuts": nuts, "mile": mile}


def fit_predict(make, X, y, groups, train, grouped: bool):
    """Seconds to fit, and the test rows' class-1 probabilities."""
    test = ~train
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        if grouped:
            model = make().fit(X[train], y[train], groups=groups[train])
        else:
            model = make().fit(X[train], y[train])
        seconds = time.perf_counter() - start
    kwargs = {"groups": groups[test]} if grouped else {}
    return seconds, model.predict_proba(X[test], **kwargs)[:, 1], model


def separate(make, X, y, groups, train):
    """One network per group: total seconds and the test probabilities."""
    proba, seconds = np.empty((~train).sum()), 0.0
    test_groups = groups[~train]
    for group in np.unique(groups):
        rows = groups == group
        part_seconds, part, _ = fit_predict(
            make, X[rows], y[rows], groups[rows], train[rows], False
        )
        proba[test_groups == group], seconds = part, seconds + part_seconds
    return seconds, proba, None


def candidates(config: dict, skip_nuts: bool) -> list[tuple]:
    """``(name, estimator factory, fit)`` of each model: fit is "pooled", "separate" or
    "grouped"."""
    advi, nuts, mile = config["advi"], config["nuts"], config["mile"]
    models = [
        ("pooled (one network)", lambda: BayesianMLPClassifier(**advi), "pooled"),
        ("separate (one network per group)", lambda: BayesianMLPClassifier(**advi), "separate"),
        *(
            (
                f'hierarchical ADVI, group_layers="{layers}"',
                lambda layers=layers: BayesianMLPClassifier(**advi, group_layers=layers),
                "grouped",
            )
            for layers in ("last", "all")
        ),
        *(
            (
                f'hierarchical MILE, group_layers="{layers}"',
                lambda layers=layers: BayesianMLPClassifier(**mile, group_layers=layers),
                "grouped",
            )
            for layers in ("last", "all")
        ),
    ]
    if not skip_nuts:
        models.append(
            (
                'hierarchical NUTS, group_layers="all"',
                lambda: BayesianMLPClassifier(**nuts, group_layers="all"),
                "grouped",
            )
        )
    return models


def run(seeds, n_groups: int, quick: bool, skip_nuts: bool) -> list[dict]:
    records = []
    for seed in seeds:
        X, y, groups, train = rotated_moons(n_groups, seed)
        y_test = y[~train]
        for name, make, kind in candidates(settings(quick, seed), skip_nuts):
            if kind == "separate":
                seconds, proba, model = separate(make, X, y, groups, train)
            else:
                seconds, proba, model = fit_predict(
                    make, X, y, groups, train, grouped=kind == "grouped"
                )
            record = {
                "seed": seed,
                "model": name,
                "accuracy": float(np.mean((proba > 0.5) == y_test)),
                "log_loss": float(log_loss(y_test, proba, labels=[0, 1])),
                "fit_seconds": seconds,
            }
            if model is not None and getattr(model, "groups_", None) is not None:
                record["spread"] = np.exp(model.group_log_scale_mean_).round(3).tolist()
                record["group_layers"] = model.group_layers_.tolist()
            records.append(record)
            print(json.dumps(record), flush=True)
    return records


def transfer(seed: int, n_groups: int, n_new: int, quick: bool) -> list[dict]:
    """Flat against informed prior on new groups with few rows (see the module's text)."""
    X, y, groups, train = rotated_moons(n_groups, seed)
    advi = settings(quick, seed)["advi"]
    known = groups < n_groups - n_new
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        hierarchical = BayesianMLPClassifier(**advi).fit(
            X[train & known], y[train & known], groups=groups[train & known]
        )
        hierarchical_seconds = time.perf_counter() - start
    prior = hierarchical.as_prior()
    scores = {name: [] for name in ("population", "flat", "informed")}
    seconds = {"population": [hierarchical_seconds], "flat": [], "informed": []}
    for group in range(n_groups - n_new, n_groups):
        own = groups == group
        rows = np.flatnonzero(own & train)
        few = np.r_[
            rows[y[rows] == 0][: NEW_GROUP_ROWS // 2], rows[y[rows] == 1][: NEW_GROUP_ROWS // 2]
        ]
        test = own & ~train
        scores["population"].append(hierarchical.predict_proba(X[test], groups=groups[test]))
        for name, extra in (("flat", {}), ("informed", {"prior": prior})):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                model = BayesianMLPClassifier(**advi, **extra).fit(X[few], y[few])
                seconds[name].append(time.perf_counter() - start)
            scores[name].append(model.predict_proba(X[test]))
    names = {
        "population": "new group, no rows: hierarchical population predictive",
        "flat": f"new group, {NEW_GROUP_ROWS} rows: flat prior",
        "informed": f"new group, {NEW_GROUP_ROWS} rows: informed prior (as_prior)",
    }
    records = []
    y_new = [y[(groups == g) & ~train] for g in range(n_groups - n_new, n_groups)]
    for name, probas in scores.items():
        records.append(
            {
                "seed": seed,
                "model": names[name],
                "accuracy": float(
                    np.mean([np.mean((p[:, 1] > 0.5) == t) for p, t in zip(probas, y_new)])
                ),
                "log_loss": float(
                    np.mean([log_loss(t, p, labels=[0, 1]) for p, t in zip(probas, y_new)])
                ),
                "fit_seconds": float(np.mean(seconds[name])),
            }
        )
        print(json.dumps(records[-1]), flush=True)
    return records


def grouped_sines(n_groups: int, seed: int, n_train: int = 20, n_test: int = 50):
    """``(X, y, groups, train)`` of per-group sines (see the module's text)."""
    rng = np.random.default_rng(seed)
    parts = []
    for group in range(n_groups):
        amplitude, phase, level = 1 + 0.3 * rng.normal(), 0.5 * rng.normal(), rng.normal()
        x = rng.uniform(-3, 3, size=n_train + n_test)
        y = amplitude * np.sin(x + phase) + level + rng.normal(scale=0.2, size=x.size)
        train = np.arange(x.size) < n_train
        parts.append((x[:, None], y, np.full(x.size, group), train))
    return tuple(np.concatenate(column) for column in zip(*parts))


def regression(seeds, quick: bool) -> list[dict]:
    """Pooled, separate and hierarchical regressors on grouped sines."""
    from bnn_sklearn import BayesianMLPRegressor

    # ADVI for pooled and separate, as for the first hierarchical fit; the second is MILE's.
    settings = dict(method="advi", hidden_layer_sizes=(16, 16), activation="tanh")
    mile = dict(settings, method="mile")
    if quick:
        settings.update(max_iter=300, tol=None, n_draws=100)
        mile.update(max_iter=300, tune=30, draws=20, chains=2)
    records = []
    for seed in seeds:
        X, y, groups, train = grouped_sines(3 if quick else 12, seed)
        test = ~train
        predictions = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model = BayesianMLPRegressor(**settings, random_state=seed).fit(X[train], y[train])
            predictions["pooled (one network)"] = (time.perf_counter() - start, model, None)
            for method, method_settings in (("ADVI", settings), ("MILE", mile)):
                start = time.perf_counter()
                model = BayesianMLPRegressor(**method_settings, random_state=seed)
                model.fit(X[train], y[train], groups=groups[train])
                predictions[f'hierarchical {method}, group_layers="last"'] = (
                    time.perf_counter() - start,
                    model,
                    groups[test],
                )
            separate, seconds = {}, 0.0
            for group in np.unique(groups):
                rows = train & (groups == group)
                start = time.perf_counter()
                separate[group] = BayesianMLPRegressor(**settings, random_state=seed).fit(
                    X[rows], y[rows]
                )
                seconds += time.perf_counter() - start
        scored = {}
        for name, (seconds_, model, test_groups) in predictions.items():
            kwargs = {} if test_groups is None else {"groups": test_groups}
            scored[name] = (
                seconds_,
                model.predict_distribution(X[test], **kwargs),
                model.predict_interval(X[test], coverage=0.9, **kwargs),
            )
        dists, intervals = [], np.empty((test.sum(), 2))
        for group, model in separate.items():
            rows = groups[test] == group
            dists.append((rows, model.predict_distribution(X[test][rows])))
            intervals[rows] = model.predict_interval(X[test][rows], coverage=0.9)
        y_test = y[test]
        for name, (seconds_, dist, interval) in scored.items():
            records.append(
                _regression_record(
                    seed, name, seconds_, dist.mean(), dist.logpdf(y_test), interval, y_test
                )
            )
        means, logpdf = np.empty(test.sum()), np.empty(test.sum())
        for rows, dist in dists:
            means[rows], logpdf[rows] = dist.mean(), dist.logpdf(y_test[rows])
        records.append(
            _regression_record(
                seed, "separate (one network per group)", seconds, means, logpdf, intervals, y_test
            )
        )
        for record in records[-len(scored) - 1 :]:
            print(json.dumps(record), flush=True)
    return records


def _regression_record(seed, name, seconds, mean, logpdf, interval, y) -> dict:
    return {
        "seed": seed,
        "model": name,
        "rmse": float(np.sqrt(np.mean((mean - y) ** 2))),
        "nlpd": float(-np.mean(logpdf)),
        "coverage_90": float(np.mean((interval[:, 0] <= y) & (y <= interval[:, 1]))),
        "fit_seconds": float(seconds),
    }


def regression_table(records: list[dict]) -> str:
    names = list(dict.fromkeys(r["model"] for r in records))
    lines = [
        "| model | test RMSE | test NLPD | 90 % interval coverage | fit seconds |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        rows = [r for r in records if r["model"] == name]
        means = [
            np.mean([r[key] for r in rows])
            for key in ("rmse", "nlpd", "coverage_90", "fit_seconds")
        ]
        lines.append(
            f"| {name} | {means[0]:.3f} | {means[1]:.3f} | {means[2]:.3f} | {means[3]:.1f} |"
        )
    return "\n".join(lines)


def table(records: list[dict]) -> str:
    names = list(dict.fromkeys(r["model"] for r in records))
    lines = [
        "| model | test accuracy | test log loss | fit seconds "
        "| spread by layer (weights / biases) |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        rows = [r for r in records if r["model"] == name]
        spread = ""
        if "spread" in rows[0]:
            mean = np.mean([r["spread"] for r in rows], axis=0)
            layers = rows[0]["group_layers"]
            spread = ", ".join(f"{i}: {w:.2f} / {b:.2f}" for i, (w, b) in zip(layers, mean))
        lines.append(
            f"| {name} | {np.mean([r['accuracy'] for r in rows]):.3f} "
            f"| {np.mean([r['log_loss'] for r in rows]):.3f} "
            f"| {np.mean([r['fit_seconds'] for r in rows]):.1f} | {spread} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 4 groups, few steps")
    parser.add_argument("--skip-nuts", action="store_true", help="leave out NUTS")
    parser.add_argument("--transfer-only", action="store_true", help="only the new groups")
    parser.add_argument("--regression", action="store_true", help="the grouped regression")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--from-records", type=Path, help="write the table of a run's .jsonl without fitting"
    )
    args = parser.parse_args(argv)
    if args.regression:
        return main_regression(args)
    seeds, n_groups = ([0], 4) if args.quick else ([0, 1, 2], 18)
    stem = "hierarchical_quick" if args.quick else "hierarchical"
    args.out.mkdir(parents=True, exist_ok=True)
    if args.from_records:
        records = [json.loads(line) for line in args.from_records.read_text().splitlines()]
        seeds, stem = sorted({r["seed"] for r in records}), args.from_records.stem
    else:
        records = [] if args.transfer_only else run(seeds, n_groups, args.quick, args.skip_nuts)
        n_new = 2 if args.quick else NEW_GROUPS
        records += [r for seed in seeds for r in transfer(seed, n_groups, n_new, args.quick)]
        stem += "_transfer" if args.transfer_only else ""
        with open(args.out / f"{stem}.jsonl", "w") as file:
            file.writelines(json.dumps(r) + "\n" for r in records)
    import bnn_sklearn

    nuts = settings(args.quick, 0)["nuts"]
    text = (
        f"Rotated moons, {n_groups} groups of 50 training and 50 test rows, seeds "
        f"{seeds} (means over seeds); 2-5-5-1 tanh, ADVI and MILE at their defaults, NUTS with "
        f"{nuts['chains']} chains of {nuts['tune']} tuning steps and {nuts['draws']} draws "
        f"(target_accept {nuts['target_accept']}). bnn_sklearn {bnn_sklearn.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d')}. Written by "
        f"`python benchmarks/hierarchical.py{' --quick' if args.quick else ''}"
        f"{' --skip-nuts' if args.skip_nuts else ''}"
        f"{' --transfer-only' if args.transfer_only else ''}`. New groups: the last "
        f"{2 if args.quick else NEW_GROUPS} of each seed, held out of the hierarchical fit "
        "(means over them).\n\n" + table(records) + "\n"
    )
    (args.out / f"{stem}.md").write_text(text)
    print(text)


def main_regression(args) -> None:
    import bnn_sklearn

    seeds = [0] if args.quick else [0, 1, 2]
    stem = "hierarchical_regression" + ("_quick" if args.quick else "")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.from_records:
        records = [json.loads(line) for line in args.from_records.read_text().splitlines()]
        seeds = sorted({r["seed"] for r in records})
    else:
        records = regression(seeds, args.quick)
        with open(args.out / f"{stem}.jsonl", "w") as file:
            file.writelines(json.dumps(r) + "\n" for r in records)
    text = (
        f"Grouped sines, {3 if args.quick else 12} groups of 20 training and 50 test rows, "
        f"seeds {seeds} (means over seeds); 1-16-16-1 tanh, ADVI and MILE at their "
        f"defaults. bnn_sklearn {bnn_sklearn.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {time.strftime('%Y-%m-%d')}. Written by "
        f"`python benchmarks/hierarchical.py --regression{' --quick' if args.quick else ''}`."
        "\n\n" + regression_table(records) + "\n"
    )
    (args.out / f"{stem}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
