"""Defaults study: ADVI candidates of BayesianMLPClassifier on log loss and on OOD AUROC.

The study behind the user guide's "The network, chosen again with uncertainty in the
criterion", which made (16, 16) ReLU units with ``prior_scale=2`` the default. Each
candidate is a network, an activation and a prior scale (some also an ``init_std``), fitted
by the default ADVI behind a ``StandardScaler``:

1. ``logloss``: 3-fold stratified CV (``shuffle=True, random_state=0``; the network's seed
   is the fold's index) on the five data sets of ``benchmarks.datasets``: log loss, ECE, accuracy,
   and the training log loss over log(K) (above 0.8 counts as a collapse). ``--baselines``
   adds a random forest and HistGradientBoosting; a candidate "wins" a data set when its
   mean log loss beats both.
2. Out of distribution, split seeds 0, 1, 2 (also the network's seed): AUROC for far
   against near points of the BNN's ``std`` of the predicted class's probability (class 1's
   if binary), of its epistemic and of its total uncertainty (``--baselines``: the random
   forest's predictive entropy over trees). Parts: ``moonsfar``
   (``benchmarks.datasets.moons_far_split``: 500 standardised moons, far points more than
   1.5 from any of them, the split of ``posterior_quality.py``), ``ood`` (the
   three scenarios of ``uncertainty.py``: moons in three distance bands, digits 0-4 against
   5-9, the 20k set shifted 3 sd), ``own`` (2-D blobs against a ring around them, 5-D blobs
   against the same points shifted far along one direction).

Each (candidate, task, split) appends one JSON line to ``defaults_study.jsonl`` in ``--out``
(default ``benchmarks/results``); keys already there are skipped, so a run can be stopped
and resumed, and a run into a folder that holds all its keys fits nothing. The tables
(``defaults_study.md``, also printed) are made from every line of that file, the last line
of a key winning. The candidate stored as ``current`` is the (32,) ReLU network at prior 2,
the default before this study; its tables call it "relu32_p2 (old default)".

    python -m benchmarks.defaults_study --summarise-only   # tables of the stored results
    python -m benchmarks.defaults_study --quick    # a smoke run (defaults_study_quick.*)
    python -m benchmarks.defaults_study --parts moonsfar --candidates tanh32_p4=32:tanh:4

The user guide's table, measured again into another folder (about 25 minutes of fitting on a
loaded two-core machine; without ``--out`` every key is already stored and nothing is fit):

    python -m benchmarks.defaults_study --out /tmp/study --baselines \\
        --candidates current,relu_p8,tanh16x16_p4,relu32x32_p2,relu16x16_p2

The stored results are those of (about 50 minutes of fitting):

    python -m benchmarks.defaults_study --out /tmp/study --baselines \\
        --parts moonsfar,logloss --candidates all
    python -m benchmarks.defaults_study --out /tmp/study --baselines --parts ood,own \\
        --candidates current,relu_p8,tanh16x16_p4,relu32x32_p2,relu32x32_p4,relu16x16_p2

except that ``relu32x32x32_p2`` and ``relu64x64_p2`` ran on ``moonsfar`` only (the latter on
seeds 0 and 1: its fits took 100 s each). The stored ``moonsfar`` lines drew their far
points from 20,000 candidates; ``moons_far_split`` now draws 10,000 (other far points for
the same seed), so a run into a new folder gives other ``moonsfar`` figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import BayesianMLPClassifier
from bnn_sklearn.metrics import expected_calibration_error, uncertainty_decomposition

if not __package__:  # run as a file: python benchmarks/defaults_study.py
    sys.path[0] = str(Path(__file__).resolve().parents[1])
from benchmarks.common import RESULTS, far_auroc, timed
from benchmarks.datasets import classification_datasets, moons_far_split
from benchmarks.uncertainty import ood_scenarios

#: The candidates, by the name stored in the JSON lines (so never rename a key).
CANDIDATES = {
    "current": dict(hidden_layer_sizes=(32,), activation="relu", prior_scale=2.0),
    "relu_p4": dict(hidden_layer_sizes=(32,), activation="relu", prior_scale=4.0),
    "relu_p8": dict(hidden_layer_sizes=(32,), activation="relu", prior_scale=8.0),
    "tanh16x16_p2": dict(hidden_layer_sizes=(16, 16), activation="tanh", prior_scale=2.0),
    "tanh16x16_p4": dict(hidden_layer_sizes=(16, 16), activation="tanh", prior_scale=4.0),
    "tanh32_p2": dict(hidden_layer_sizes=(32,), activation="tanh", prior_scale=2.0),
    "relu32x32_p2": dict(hidden_layer_sizes=(32, 32), activation="relu", prior_scale=2.0),
    "relu_p2_init0.2": dict(
        hidden_layer_sizes=(32,), activation="relu", prior_scale=2.0, init_std=0.2
    ),
    "tanh16x16_p2_init0.2": dict(
        hidden_layer_sizes=(16, 16), activation="tanh", prior_scale=2.0, init_std=0.2
    ),
    # Added in a second round (then given as name=layers:act:prior on the command line).
    "relu32x32_p4": dict(hidden_layer_sizes=(32, 32), activation="relu", prior_scale=4.0),
    "relu16x16_p2": dict(hidden_layer_sizes=(16, 16), activation="relu", prior_scale=2.0),
    "relu32x32x32_p2": dict(hidden_layer_sizes=(32, 32, 32), activation="relu", prior_scale=2.0),
    "relu64x64_p2": dict(hidden_layer_sizes=(64, 64), activation="relu", prior_scale=2.0),
}
#: Names in the tables where they differ from the stored key.
LABELS = {"current": "relu32_p2 (old default)", "relu16x16_p2": "relu16x16_p2 (default)"}
BASELINES = ("RF", "HGB")
#: --quick: one candidate (the default network), a few iterations, one fold and one seed.
QUICK_CANDIDATE = "relu16x16_p2"
QUICK_FIT = dict(max_iter=300, tol=None, n_draws=100)

LL_SETS = ("moons", "breast_cancer", "iris", "digits", "synthetic_20k")
OOD_GROUPS = (
    ("moons 1-2sd", "ood:moons", "auroc|1-2 sd away"),
    ("moons 2-3sd", "ood:moons", "auroc|2-3 sd away"),
    ("moons >3sd", "ood:moons", "auroc|> 3 sd away"),
    ("digits 5-9", "ood:digits 0-4", "auroc|unseen digits 5-9"),
    ("20k shift3sd", "ood:synthetic 20k", "auroc|shifted 3 sd per feature"),
    ("moons-far", "ood:moons-far", "auroc|far"),
    ("blobs2d ring", "ood:blobs2d-ring", "auroc|ring"),
    ("blobs5d shift", "ood:blobs5d-shift", "auroc|shift"),
)


def add_candidate(spec: str) -> str:
    """'name=layers:act:prior[:init_std]' e.g. 'tanh32_p4=32:tanh:4'."""
    name, rest = spec.split("=")
    parts = rest.split(":")
    layers = tuple(int(u) for u in parts[0].split("x")) if parts[0] else ()
    kw = dict(hidden_layer_sizes=layers, activation=parts[1], prior_scale=float(parts[2]))
    if len(parts) > 3:
        kw["init_std"] = float(parts[3])
    CANDIDATES[name] = kw
    return name


def make_model(name: str, seed: int, fit_params: dict):
    if name == "RF":
        return RandomForestClassifier(random_state=0)
    if name == "HGB":
        return HistGradientBoostingClassifier(random_state=0)
    return make_pipeline(
        StandardScaler(),
        BayesianMLPClassifier(random_state=seed, **CANDIDATES[name], **fit_params),
    )


def fit_recorded(model, X, y):
    """Fit ``model`` in place; return its seconds, whether it warned of convergence, and the
    error it raised (``None`` if none): a failed fit is a result here, not a stop."""

    def fit():
        try:
            model.fit(X, y)
        except Exception as exc:  # record and go on
            return f"{type(exc).__name__}: {exc}"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seconds, error = timed(fit)
    convergence = any("ConvergenceWarning" in type(w.message).__name__ for w in caught)
    return seconds, convergence, error


def bnn_info(model, X_train, y_train) -> dict:
    """Training log loss relative to log(K) (collapse check) and iterations."""
    clf = model[-1]
    proba = model.predict_proba(X_train)
    ll = log_loss(y_train, proba, labels=clf.classes_)
    return {
        "train_ll": ll,
        "train_ll_ratio": ll / np.log(len(clf.classes_)),
        "n_iter": int(clf.n_iter_),
    }


def scores(name: str, model, X) -> dict:
    """OOD scores: BNN std of the predicted class (class 1 if binary) and epistemic;
    RF predictive entropy over trees."""
    if name == "RF":
        draws = np.stack([tree.predict_proba(X) for tree in model.estimators_])
        return {"entropy": uncertainty_decomposition(draws).total}
    Xs = model[:-1].transform(X)
    clf = model[-1]
    draws = clf.predict_proba_draws(Xs)
    mean = draws.mean(axis=0)
    std = draws.std(axis=0)
    if mean.shape[1] == 2:
        std_score = std[:, 1]
    else:
        std_score = std[np.arange(len(X)), mean.argmax(axis=1)]
    split = uncertainty_decomposition(draws)
    return {"std": std_score, "epistemic": split.epistemic, "total": split.total}


# ---------------------------------------------------------------- OOD scenarios
def moons_far(seed: int, quick: bool = False):
    X_train, y_train, X_near, X_far = moons_far_split(seed)
    return {"moons-far": (X_train, y_train, X_near, {"far": X_far})}


def blobs2d_ring(seed: int, quick: bool = False):
    X, y = make_blobs(600, n_features=2, centers=3, cluster_std=1.0, random_state=seed)
    X_train, y_train, X_near = X[:400], y[:400], X[400:]
    rng = np.random.default_rng(seed)
    centre = X_train.mean(axis=0)
    r_max = np.linalg.norm(X_train - centre, axis=1).max()
    angle = rng.uniform(0, 2 * np.pi, 200)
    radius = rng.uniform(1.5 * r_max, 2.0 * r_max, 200)
    X_far = centre + np.column_stack([np.cos(angle), np.sin(angle)]) * radius[:, None]
    return {"blobs2d-ring": (X_train, y_train, X_near, {"ring": X_far})}


def blobs5d_shift(seed: int, quick: bool = False):
    X, y = make_blobs(1000, n_features=5, centers=3, cluster_std=1.5, random_state=seed)
    X_train, y_train, X_near = X[:700], y[:700], X[700:]
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=5)
    direction /= np.linalg.norm(direction)
    r_max = np.linalg.norm(X_train - X_train.mean(axis=0), axis=1).max()
    X_far = X_near + 2.0 * r_max * direction
    return {"blobs5d-shift": (X_train, y_train, X_near, {"shift": X_far})}


def repo_ood(seed: int, quick: bool = False):
    """uncertainty.py's scenarios (--quick: its small moons only)."""
    return ood_scenarios(quick=quick, seed=seed)


PART_SCENARIOS = {
    "moonsfar": [moons_far],
    "ood": [repo_ood],
    "own": [blobs2d_ring, blobs5d_shift],
}


# ---------------------------------------------------------------- bookkeeping
def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_done(path: Path) -> set:
    return {(r["candidate"], r["task"], r["split"]) for r in read_rows(path)}


def emit(path: Path, row: dict) -> None:
    with open(path, "a") as handle:
        handle.write(json.dumps(row) + "\n")


def run_ood(names, part, seeds, done, path: Path, quick: bool, fit_params: dict):
    for seed in seeds:
        cache = None
        for name in names:
            if cache is None:
                cache = {}
                for make in PART_SCENARIOS[part]:
                    cache |= make(seed, quick)
            for scenario, (X_train, y_train, X_near, far_sets) in cache.items():
                task = f"ood:{scenario}"
                if (name, task, seed) in done:
                    continue
                model = make_model(name, seed, fit_params)
                seconds, conv, error = fit_recorded(model, X_train, y_train)
                row = {
                    "candidate": name,
                    "task": task,
                    "split": seed,
                    "fit_s": seconds,
                    "convergence_warning": conv,
                    "error": error,
                }
                if error is None:
                    if name != "RF":
                        row |= bnn_info(model, X_train, y_train)
                    near = scores(name, model, X_near)
                    for far_name, X_far in far_sets.items():
                        far = scores(name, model, X_far)
                        row[f"auroc|{far_name}"] = {k: far_auroc(near[k], far[k]) for k in near}
                emit(path, row)
                aur = {k: v for k, v in row.items() if k.startswith("auroc")}
                print(
                    f"{name:>22} | {task:<22} | seed {seed} | {seconds:6.1f} s | "
                    f"it {row.get('n_iter', '-')} | {aur} | {error or ''}",
                    flush=True,
                )


def run_logloss(names, done, max_folds_20k: int, path: Path, quick: bool, fit_params: dict):
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    for data_name, (X, y) in classification_datasets(quick=quick).items():
        splits = list(folds.split(X, y))
        if data_name == "synthetic_20k":
            splits = splits[:max_folds_20k]
        if quick:
            splits = splits[:1]
        for name in names:
            for k, (train, test) in enumerate(splits):
                task = f"ll:{data_name}"
                if (name, task, k) in done:
                    continue
                model = make_model(name, k, fit_params)
                seconds, conv, error = fit_recorded(model, X[train], y[train])
                row = {
                    "candidate": name,
                    "task": task,
                    "split": k,
                    "fit_s": seconds,
                    "convergence_warning": conv,
                    "error": error,
                }
                if error is None:
                    proba = model.predict_proba(X[test])
                    row["log_loss"] = float(log_loss(y[test], proba, labels=model.classes_))
                    row["ece"] = float(
                        expected_calibration_error(y[test], proba, labels=model.classes_)
                    )
                    row["accuracy"] = float(
                        np.mean(model.classes_[proba.argmax(axis=1)] == y[test])
                    )
                    if name not in BASELINES:
                        row |= bnn_info(model, X[train], y[train])
                emit(path, row)
                print(
                    f"{name:>22} | {task:<22} | fold {k} | {seconds:6.1f} s | "
                    f"it {row.get('n_iter', '-')} | ll {row.get('log_loss', float('nan')):.4f}"
                    f" | train ratio {row.get('train_ll_ratio', float('nan')):.3f} | "
                    f"{error or ''}",
                    flush=True,
                )


# ---------------------------------------------------------------- tables
def summarise(rows: list[dict]) -> str:
    """The Markdown tables (log loss, then OOD AUROC per score) of the JSON lines."""
    # keep the last row per key (a rerun overrides)
    keyed = {(r["candidate"], r["task"], r["split"]): r for r in rows}
    rows = list(keyed.values())
    names = list(dict.fromkeys(r["candidate"] for r in rows))
    by = defaultdict(list)
    for r in rows:
        by[r["candidate"], r["task"]].append(r)

    def mean_ll(name, data, key="log_loss"):
        vals = [r[key] for r in by[name, f"ll:{data}"] if r.get(key) is not None]
        return (float(np.mean(vals)), len(vals)) if vals else (np.nan, 0)

    out = []
    # ---------------- log loss
    best_tree = {d: min(mean_ll("RF", d)[0], mean_ll("HGB", d)[0]) for d in LL_SETS}
    out.append(
        "## Log loss, 3-fold stratified CV (mean over folds; folds done in brackets "
        "when < 3); wins = data sets where it beats min(RF, HGB) in the same folds\n"
    )
    out.append(
        "| candidate | " + " | ".join(LL_SETS) + " | wins | mean ECE | "
        "median fit s (ll) | collapses | conv. warnings |"
    )
    out.append("|---|" + "---|" * (len(LL_SETS) + 5))
    for name in names:
        cells, wins, eces, fits, collapses, convs, any_ll = [], 0, [], [], 0, 0, False
        for d in LL_SETS:
            m, n = mean_ll(name, d)
            if n:
                any_ll = True
            cells.append("-" if n == 0 else (f"{m:.3f}" + ("" if n == 3 else f" ({n})")))
            if n and name not in BASELINES and m < best_tree[d]:
                wins += 1
            e, _ = mean_ll(name, d, "ece")
            eces.append(e)
            for r in by[name, f"ll:{d}"]:
                fits.append(r["fit_s"])
                collapses += r.get("train_ll_ratio", 0) > 0.8 or r.get("error") is not None
                convs += bool(r.get("convergence_warning"))
        if not any_ll:
            continue
        wins_cell = "" if name in BASELINES else str(wins)
        out.append(
            f"| {LABELS.get(name, name)} | " + " | ".join(cells) + f" | {wins_cell} | "
            f"{np.nanmean(eces):.3f} | {np.median(fits):.1f} | {collapses} | {convs} |"
        )
    out.append(
        "| best of RF/HGB | "
        + " | ".join("-" if np.isnan(best_tree[d]) else f"{best_tree[d]:.3f}" for d in LL_SETS)
        + " | | | | | |"
    )

    # ---------------- OOD
    out.append("\n## OOD AUROC far vs near (mean over seeds; seeds done in brackets when < 3)\n")
    for score in ("std", "epistemic", "total"):
        out.append(f"\n### BNN score: {score} (RF row: predictive entropy over trees)\n")
        out.append(
            "| candidate | "
            + " | ".join(g[0] for g in OOD_GROUPS)
            + " | mean (8) | median fit s (ood) |"
        )
        out.append("|---|" + "---|" * (len(OOD_GROUPS) + 2))
        for name in names:
            cells, means, fits = [], [], []
            for _, task, key in OOD_GROUPS:
                sc = "entropy" if name == "RF" else score
                vals = [r[key][sc] for r in by[name, task] if key in r]
                fits += [r["fit_s"] for r in by[name, task]]
                if vals:
                    means.append(np.mean(vals))
                    cells.append(
                        f"{np.mean(vals):.3f}" + ("" if len(vals) == 3 else f" ({len(vals)})")
                    )
                else:
                    cells.append("-")
            if not means:
                continue
            full = len(means) == len(OOD_GROUPS)
            mean_cell = f"{np.mean(means):.3f}" if full else f"({np.mean(means):.3f})"
            fit_cell = f"{np.median(fits):.1f}" if fits else "-"
            out.append(
                f"| {LABELS.get(name, name)} | "
                + " | ".join(cells)
                + f" | {mean_cell} | {fit_cell} |"
            )
    return "\n".join(out) + "\n"


def header(rows: list[dict], jsonl: Path, quick: bool) -> str:
    names = list(dict.fromkeys(r["candidate"] for r in rows))
    legend = "; ".join(
        f"{LABELS.get(name, name)} = {spec['hidden_layer_sizes']} {spec['activation']} prior "
        f"{spec['prior_scale']:g}"
        + (f" init_std {spec['init_std']:g}" if "init_std" in spec else "")
        for name, spec in ((name, CANDIDATES[name]) for name in names if name in CANDIDATES)
    )
    quick_fit = ", ".join(f"{key}={value}" for key, value in QUICK_FIT.items())
    quick_fit = f" but {quick_fit}" if quick else ""
    return (
        f"`python -m benchmarks.defaults_study{' --quick' if quick else ''}`: tables of the "
        f"{len(rows)} lines of `{jsonl.name}` (one per candidate, task and split; "
        "`--summarise-only` makes them again without fitting). Candidates (ADVI, the other "
        f"parameters at their defaults{quick_fit}, behind a StandardScaler): {legend}. RF and "
        "HGB: random forest and HistGradientBoosting, `random_state=0`.\n\n"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="folder for the JSON lines and the tables"
    )
    parser.add_argument(
        "--summarise-only", action="store_true", help="fit nothing: tables of the JSON lines"
    )
    parser.add_argument(
        "--candidates",
        default=None,
        help="comma list of names, 'all', or name=layers:act:prior[:init] "
        f"(default: all; --quick: {QUICK_CANDIDATE}); names: {', '.join(CANDIDATES)}",
    )
    parser.add_argument(
        "--parts", default="moonsfar,logloss,ood,own", help="comma list (default: all four)"
    )
    parser.add_argument("--seeds", default=None, help="OOD splits (default 0,1,2; --quick: 0)")
    parser.add_argument("--folds-20k", type=int, default=3, help="CV folds run on the 20k set")
    parser.add_argument("--baselines", action="store_true", help="also RF (OOD) / RF+HGB (ll)")
    args = parser.parse_args(argv)
    stem = "defaults_study_quick" if args.quick else "defaults_study"
    jsonl, table_path = args.out / f"{stem}.jsonl", args.out / f"{stem}.md"

    if not args.summarise_only:
        candidates = args.candidates or (QUICK_CANDIDATE if args.quick else "all")
        names = []
        for spec in candidates.split(","):
            if spec == "all":
                names += list(CANDIDATES)
            elif "=" in spec:
                names.append(add_candidate(spec))
            elif spec in CANDIDATES:
                names.append(spec)
            else:
                parser.error(f"unknown candidate {spec!r}; known: {', '.join(CANDIDATES)}")
        seeds = [int(s) for s in (args.seeds or ("0" if args.quick else "0,1,2")).split(",")]
        fit_params = QUICK_FIT if args.quick else {}
        args.out.mkdir(parents=True, exist_ok=True)
        if args.quick:  # a smoke run starts afresh
            jsonl.unlink(missing_ok=True)
        done = load_done(jsonl)
        parts = args.parts.split(",")
        for part in parts:
            if part not in ("logloss", *PART_SCENARIOS):
                parser.error(f"unknown part {part!r}")
        for part in parts:
            if part == "logloss":
                ll_names = (list(BASELINES) if args.baselines else []) + names
                run_logloss(ll_names, done, args.folds_20k, jsonl, args.quick, fit_params)
            else:
                ood_names = (["RF"] if args.baselines else []) + names
                run_ood(ood_names, part, seeds, done, jsonl, args.quick, fit_params)

    rows = read_rows(jsonl)
    if not rows:
        parser.error(f"no results in {jsonl}")
    table = header(rows, jsonl, args.quick) + summarise(rows)
    table_path.write_text(table)
    print("\n" + table)


if __name__ == "__main__":
    main()
