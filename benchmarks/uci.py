"""The UCI regression protocol: the estimators' methods against the published figures.

The literature's standard protocol for Bayesian deep learning (Hernández-Lobato & Adams
2015): fit on the training rows of a published 90/10 split, report on its test rows the
test log-likelihood per point of the predictive mixture (in the target's units; higher is
better) and the RMSE of its mean, averaged over splits. The data and the published figures
(MC dropout, deep ensembles, NGBoost; 20 splits) are read from ``--data`` (default
``../shared/data/uci`` beside the repository, or ``$BNN_UCI_DATA``): one folder per set
with ``data.txt``, ``index_features.txt``, ``index_target.txt`` and ``index_train_K.txt``
/ ``index_test_K.txt``, and the README's table of published figures.

Every model is ``make_pipeline(StandardScaler(), BayesianMLPRegressor(random_state=0,
...))``; the methods are ``method="advi"``, ``method="mile"`` (what the default,
``method="auto"``, runs on these sets) and ``method="nuts"``.
Each fit is timed after a small fit of the same method and set has compiled what it needs.
Every fit's record is kept in ``uci.jsonl`` in ``--out`` (a rerun of a method, set and
split replaces its record), and ``uci.md`` and ``uci.png`` are rebuilt from all records.

    python -m benchmarks.uci                                # advi and mile, splits 0-4
    python -m benchmarks.uci --methods nuts                 # NUTS (about a minute per fit)
    python -m benchmarks.uci --methods mile --label "mile ta 0.9" \\
        --params '{"target_accept": 0.9}' --sets yacht energy --splits 0 1
    python -m benchmarks.uci --table-only                   # the table and figure again
    python -m benchmarks.uci --quick                        # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPRegressor

if not __package__:  # run as a file: python benchmarks/uci.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, ROOT, header, markdown_table

SETS = ("concrete", "energy", "wine-quality-red", "yacht")
#: The methods by label: the regressor's parameters beside ``random_state=0``.
METHODS = {"advi": {"method": "advi"}, "mile": {"method": "mile"}, "nuts": {"method": "nuts"}}
#: Parameters of the small fit that compiles a method's graphs before the timed fits.
WARM_UP = {"max_iter": 200, "tune": 5, "draws": 5, "chains": 1}
#: The published methods' columns in the data's README table, by the name to report.
PUBLISHED = {"MC dropout": 2, "deep ensembles": 3, "NGBoost": 4}


def default_data_folder() -> Path:
    return Path(os.environ.get("BNN_UCI_DATA", ROOT.parent / "shared" / "data" / "uci"))


def load_split(folder: Path, name: str, split: int):
    """``X_train, y_train, X_test, y_test`` of split ``split`` of the set ``name``."""
    where = folder / name
    data = np.loadtxt(where / "data.txt")
    features = np.loadtxt(where / "index_features.txt", dtype=int).ravel()
    target = int(np.loadtxt(where / "index_target.txt"))
    train = np.loadtxt(where / f"index_train_{split}.txt", dtype=int)
    test = np.loadtxt(where / f"index_test_{split}.txt", dtype=int)
    X, y = data[:, features], data[:, target]
    return X[train], y[train], X[test], y[test]


def published_figures(folder: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """``{set: {method: (rmse, ll)}}`` from the data README's table (empty if none)."""
    readme = folder / "README.md"
    figures: dict[str, dict[str, tuple[float, float]]] = {}
    if not readme.exists():
        return figures
    for line in readme.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 5 or cells[0] not in SETS:
            continue
        figures[cells[0]] = {
            method: tuple(float(x) for x in cells[column].split("/"))
            for method, column in PUBLISHED.items()
        }
    return figures


def score(model, X_test, y_test) -> tuple[float, float]:
    """Test log-likelihood per point of the predictive mixture, and the RMSE of its mean."""
    distribution = model[-1].predict_distribution(model[:-1].transform(X_test))
    log_likelihood = float(np.mean(distribution.logpdf(y_test)))
    rmse = float(np.sqrt(np.mean((distribution.mean() - y_test) ** 2)))
    return log_likelihood, rmse


def run(folder, sets, splits, label, params, out: Path, quick: bool) -> None:
    records_path = out / "uci.jsonl"
    records = read_records(records_path)
    for name in sets:
        warmed = False
        for split in splits:
            X_train, y_train, X_test, y_test = load_split(folder, name, split)
            if not warmed:  # compile outside the timing
                fit(X_train[:40], y_train[:40], params | WARM_UP)
                warmed = True
            seconds, model, warned = timed_fit(X_train, y_train, params, quick)
            log_likelihood, rmse = score(model, X_test, y_test)
            record = {
                "method": label,
                "set": name,
                "split": split,
                "ll": round(log_likelihood, 4),
                "rmse": round(rmse, 4),
                "fit_s": round(seconds, 2),
                # The machine's 1-minute load average after the fit: seconds measured on
                # a busy machine are longer.
                "load": round(os.getloadavg()[0], 1),
                "divergences": model[-1].n_divergences_,
                "warnings": warned,
                "params": params,
                "python": sys.version.split()[0],
                "date": time.strftime("%Y-%m-%d"),
            }
            print(json.dumps(record), flush=True)
            records = [r for r in records if key(r) != key(record)] + [record]
            write_records(records, records_path)


def pipeline(params):
    return make_pipeline(StandardScaler(), BayesianMLPRegressor(random_state=0, **params))


def fit(X, y, params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return pipeline(params).fit(X, y)


def timed_fit(X, y, params, quick):
    if quick:
        params = params | {"max_iter": 300, "tune": 20, "draws": 20}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model = pipeline(params).fit(X, y)
        seconds = time.perf_counter() - start
    warned = sorted({str(w.message).split(":")[0] for w in caught})
    return seconds, model, warned


def key(record) -> tuple:
    return record["method"], record["set"], record["split"]


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_records(records: list[dict], path: Path) -> None:
    records = sorted(records, key=key)
    path.write_text("".join(json.dumps(record) + "\n" for record in records))


def summary(records, published) -> dict[str, dict[str, dict]]:
    """``{set: {method: {"ll", "ll_se", "rmse", "fit_s", "splits"}}}``: means over splits,
    standard errors over splits, median fit seconds."""
    table: dict[str, dict[str, dict]] = {}
    for record in records:
        table.setdefault(record["set"], {}).setdefault(record["method"], []).append(record)
    result = {}
    for name, by_method in table.items():
        result[name] = {}
        for method, rows in by_method.items():
            ll = np.array([row["ll"] for row in rows])
            result[name][method] = {
                "ll": ll.mean(),
                "ll_se": ll.std(ddof=1) / np.sqrt(len(ll)) if len(ll) > 1 else np.nan,
                "rmse": np.mean([row["rmse"] for row in rows]),
                "fit_s": float(np.median([row["fit_s"] for row in rows])),
                "splits": ",".join(str(row["split"]) for row in sorted(rows, key=key)),
            }
    return result


def report(records, published, out: Path, argv=None) -> str:
    means = summary(records, published)
    rows = []
    for name in sorted(means):
        for method, cells in means[name].items():
            rows.append(
                [
                    name,
                    method,
                    cells["splits"],
                    f"{cells['ll']:.3f} ± {cells['ll_se']:.3f}",
                    f"{cells['rmse']:.3f}",
                    f"{cells['fit_s']:.1f}",
                ]
            )
        for method, (rmse, ll) in published.get(name, {}).items():
            rows.append([name, f"{method} (published)", "20 splits", f"{ll:.2f}", rmse, ""])
    text = "\n\n".join(
        [
            header(
                "uci",
                argv,
                note="the last run; the table holds every record in uci.jsonl (each with "
                "its Python, date and the machine's load)",
            ),
            markdown_table(
                ["set", "method", "splits", "test LL (± se)", "RMSE", "fit s (median)"], rows
            ),
        ]
    )
    (out / "uci.md").write_text(text + "\n")
    plot(means, published, out / "uci.png")
    return text


def plot(means, published, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(means)
    n_rows = -(-len(names) // 2)
    fig, axes = plt.subplots(n_rows, 2, figsize=(9, 3.9 * n_rows + 0.8), squeeze=False)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names):
        # The methods at their defaults; variants are in the table.
        methods = [method for method in METHODS if method in means[name]]
        ll = [means[name][m]["ll"] for m in methods]
        se = [np.nan_to_num(means[name][m]["ll_se"]) for m in methods]
        ax.errorbar(range(len(methods)), ll, yerr=se, fmt="o", color="C0", capsize=3)
        for i, (method, (_, value)) in enumerate(published.get(name, {}).items()):
            ax.axhline(value, color=f"C{i + 1}", ls="--", lw=1, label=f"{method} (published)")
        ax.set_xticks(range(len(methods)), methods, rotation=30, ha="right")
        ax.set_xlim(-0.5, len(methods) - 0.5)
        ax.set_title(name)
        ax.set_ylabel("test log-likelihood per point")
        ax.grid(alpha=0.3)
    fig.suptitle("Mean ± standard error over the splits; dashed: published, 20 splits")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=len(handles), frameon=False)
    fig.tight_layout(rect=(0, 0.05 if handles else 0, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="the UCI folder")
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--splits", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--methods", nargs="+", default=["advi", "mile"], choices=list(METHODS))
    parser.add_argument("--label", help="the records' method name (one method only)")
    parser.add_argument("--params", default="{}", help="JSON: more regressor parameters")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--quick", action="store_true", help="a smoke run: short fits")
    parser.add_argument(
        "--table-only", action="store_true", help="rebuild uci.md and uci.png, fit nothing"
    )
    args = parser.parse_args(argv)
    folder = args.data or default_data_folder()
    if not folder.exists():
        parser.error(f"no UCI data at {folder}: pass --data or set BNN_UCI_DATA")
    if args.label and len(args.methods) != 1:
        parser.error("--label names the records of one method: pass one --methods")
    args.out.mkdir(parents=True, exist_ok=True)
    extra = json.loads(args.params)
    for method in [] if args.table_only else args.methods:
        params = METHODS[method] | extra
        label = args.label or method
        run(folder, args.sets, args.splits, label, params, args.out, args.quick)
    records = read_records(args.out / "uci.jsonl")
    print(report(records, published_figures(folder), args.out, argv))


if __name__ == "__main__":
    main()
