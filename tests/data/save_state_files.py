"""Write a fitted classifier in this checkout's state format, as the persistence tests load it.

Run from a checkout of the version to keep (e.g. 0.2.0), with the output folder given:
``python tests/data/save_state_files.py tests/data``. It writes ``model_v<version>.joblib``,
``model_v<version>.skops`` and ``model_v<version>_proba.txt`` (the predicted probabilities
of the persistence tests' rows, which the loaded models must reproduce).
"""

import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.datasets import make_moons

import bnn_sklearn
from bnn_sklearn import BayesianMLPClassifier


def main(folder: Path) -> None:
    X, y = make_moons(60, noise=0.2, random_state=0)
    frame, labels = pd.DataFrame(X, columns=["length", "width"]), np.where(y == 1, "yes", "no")
    settings = dict(hidden_layer_sizes=(8,), max_iter=300, tol=None, n_draws=100, random_state=0)
    clf = BayesianMLPClassifier(**settings).fit(frame, labels)
    stem = folder / f"model_v{bnn_sklearn.__version__}"
    joblib.dump(clf, f"{stem}.joblib")
    sio.dump(clf, f"{stem}.skops")
    np.savetxt(f"{stem}_proba.txt", clf.predict_proba(frame))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
