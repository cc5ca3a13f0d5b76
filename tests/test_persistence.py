"""Saving and loading: joblib, skops with only this package's types trusted, old files."""

import io
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.datasets import make_moons
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import TRUSTED_TYPES, BayesianMLPClassifier, _base

from .conftest import FAST

DATA = Path(__file__).parent / "data"

CLASSIFIER_TYPE = "bnn_sklearn._classifier.BayesianMLPClassifier"


@pytest.fixture(scope="module")
def named_frame_and_labels():
    X, y = make_moons(60, noise=0.2, random_state=0)
    return pd.DataFrame(X, columns=["length", "width"]), np.where(y == 1, "yes", "no")


@pytest.fixture(scope="module")
def saved(named_frame_and_labels, tmp_path_factory):
    frame, labels = named_frame_and_labels
    clf = BayesianMLPClassifier(**{**FAST, "max_iter": 300}).fit(frame, labels)
    path = tmp_path_factory.mktemp("skops") / "model.skops"
    sio.dump(clf, path)
    return clf, path


def test_skops_round_trip_trusting_only_this_package(saved, named_frame_and_labels):
    clf, path = saved
    frame, _ = named_frame_and_labels
    assert sio.get_untrusted_types(file=path) == [CLASSIFIER_TYPE]
    loaded = sio.load(path, trusted=TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict_proba(frame), clf.predict_proba(frame))
    assert loaded.classes_.tolist() == ["no", "yes"]
    assert loaded.feature_names_in_.tolist() == ["length", "width"]
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path, trusted=[])


def test_a_fitted_pipeline_needs_no_more_trust(named_frame_and_labels, tmp_path):
    frame, labels = named_frame_and_labels
    pipeline = make_pipeline(StandardScaler(), BayesianMLPClassifier(**FAST)).fit(frame, labels)
    sio.dump(pipeline, tmp_path / "pipeline.skops")
    assert sio.get_untrusted_types(file=tmp_path / "pipeline.skops") == [CLASSIFIER_TYPE]
    loaded = sio.load(tmp_path / "pipeline.skops", trusted=TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict_proba(frame), pipeline.predict_proba(frame))


def rewrite_member(source: Path, target: Path, name: str, edit) -> None:
    """Copy a skops zip file, passing the bytes of member ``name`` through ``edit``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            new.writestr(item, edit(data) if item.filename == name else data)


def test_a_file_edited_to_run_code_is_refused(saved, tmp_path):
    _, path = saved

    def smuggle_a_function(schema: bytes) -> bytes:
        tree = json.loads(schema)
        tree["content"]["content"]["activation"] = {
            "__class__": "system",
            "__module__": "os",
            "__loader__": "TypeNode",
            "__id__": 1,
        }
        return json.dumps(tree).encode()

    rewrite_member(path, tmp_path / "edited.skops", "schema.json", smuggle_a_function)
    assert "os.system" in sio.get_untrusted_types(file=tmp_path / "edited.skops")
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match=r"os\.system"):
        sio.load(tmp_path / "edited.skops", trusted=TRUSTED_TYPES)


@pytest.fixture(scope="module")
def saved_fullrank(named_frame_and_labels, tmp_path_factory):
    """A full-rank model on disk: it has every fitted array, the Cholesky factor too."""
    frame, labels = named_frame_and_labels
    clf = BayesianMLPClassifier(
        **{**FAST, "max_iter": 300, "method": "fullrank_advi"}, learning_rate=3e-3
    ).fit(frame, labels)
    path = tmp_path_factory.mktemp("skops") / "fullrank.skops"
    sio.dump(clf, path)
    return path


def edit_array(source: Path, target: Path, attribute: str, index, edit) -> None:
    """Copy a skops file with the array ``attribute`` (item ``index`` of a list) edited."""
    schema = json.loads(zipfile.ZipFile(source).read("schema.json"))
    node = schema["content"]["content"][attribute]
    if index is not None:
        node = node["content"][index]

    def edited(data: bytes) -> bytes:
        out = io.BytesIO()
        np.save(out, edit(np.load(io.BytesIO(data))))
        return out.getvalue()

    rewrite_member(source, target, node["file"], edited)


def with_value(value, flat_index=0):
    def edit(array):
        array = array.copy()
        array.flat[flat_index] = value
        return array

    return edit


ARRAY_EDITS = {
    "wrong shape": ("coefs_mean_", 0, lambda a: np.zeros((3, 3)), r"shape \(3, 3\) where \(2, 8\)"),
    "nan mean": ("coefs_mean_", 1, with_value(np.nan), "non-finite posterior parameters"),
    "infinite sd": ("intercepts_std_", 0, with_value(np.inf), "non-finite posterior parameters"),
    "negative sds": ("coefs_std_", 0, np.negative, "non-positive posterior standard deviations"),
    "zero sd": ("intercepts_std_", 1, with_value(0.0), "non-positive posterior standard"),
    "cholesky shape": (
        "posterior_cholesky_",
        None,
        lambda a: a[:-1, :-1],
        r"Cholesky factor of shape \(32, 32\)",
    ),
    "class count": (
        "classes_",
        None,
        lambda a: np.append(a, "zzz"),
        "3 classes for 1 network outputs",
    ),
    "nan cholesky": (
        "posterior_cholesky_",
        None,
        with_value(np.nan, 3 * 33 + 1),  # row 3, column 1 of the 33 x 33 factor
        "a non-finite Cholesky factor",
    ),
}


@pytest.mark.parametrize(
    "attribute, index, edit, message",
    [pytest.param(*edit, id=name) for name, edit in ARRAY_EDITS.items()],
)
def test_edited_arrays_are_refused_with_the_reason(
    saved_fullrank, tmp_path, attribute, index, edit, message
):
    edit_array(saved_fullrank, tmp_path / "edited.skops", attribute, index, edit)
    with pytest.raises(ValueError, match=f"damaged or was edited.*{message}"):
        sio.load(tmp_path / "edited.skops", trusted=TRUSTED_TYPES)


def test_the_unedited_file_loads(saved_fullrank, named_frame_and_labels):
    """The edits above, not the full-rank file itself, are what the loader refuses."""
    frame, _ = named_frame_and_labels
    loaded = sio.load(saved_fullrank, trusted=TRUSTED_TYPES)
    assert np.all(np.isfinite(loaded.predict_proba(frame)))


def test_a_truncated_file_is_refused(saved, tmp_path):
    _, path = saved
    truncated = tmp_path / "truncated.skops"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(zipfile.BadZipFile):
        sio.load(truncated, trusted=TRUSTED_TYPES)


@pytest.mark.parametrize("name", ["model_v0.1.0.joblib", "model_v0.1.0.skops"])
def test_a_model_saved_by_version_0_1_loads_and_predicts_the_same(
    name, named_frame_and_labels, tmp_path
):
    frame, labels = named_frame_and_labels
    path = shutil.copy(DATA / name, tmp_path / name)
    if name.endswith(".skops"):
        loaded = sio.load(path, trusted=TRUSTED_TYPES)
    else:
        loaded = joblib.load(path)
    expected = np.loadtxt(DATA / "model_v0.1.0_proba.txt")
    np.testing.assert_allclose(loaded.predict_proba(frame), expected, rtol=1e-12)
    # Parameters and attributes added since 0.1 are there, at their defaults.
    assert loaded.get_params()["early_stopping"] is False
    defaults = BayesianMLPClassifier().get_params()
    assert all(loaded.get_params()[name] == defaults[name] for name in ("method", "chains"))
    assert loaded.validation_loss_ is None
    assert loaded.posterior_draws_ is None and loaded.predictive_rhat_ is None
    assert loaded.method_ == "advi"
    loaded.set_params(warm_start=True, max_iter=100).fit(frame, labels)
    assert loaded.n_iter_ == 400


@pytest.mark.parametrize("name", ["model_v0.2.0.joblib", "model_v0.2.0.skops"])
def test_a_model_saved_by_version_0_2_loads_and_predicts_the_same(
    name, named_frame_and_labels, tmp_path
):
    # Written by tests/data/save_state_files.py from bnn_sklearn 0.2.0 (state format 3).
    frame, _ = named_frame_and_labels
    path = shutil.copy(DATA / name, tmp_path / name)
    loaded = sio.load(path, trusted=TRUSTED_TYPES) if name.endswith(".skops") else joblib.load(path)
    expected = np.loadtxt(DATA / "model_v0.2.0_proba.txt")
    np.testing.assert_allclose(loaded.predict_proba(frame), expected, rtol=1e-12)
    # Fitted without groups, as every model of 0.2 was; group_layers takes its default.
    assert loaded.groups_ is None and loaded.group_offsets_mean_ is None
    assert loaded.get_params()["group_layers"] == BayesianMLPClassifier().group_layers
    assert loaded.method_ == loaded.method == "advi"
    with pytest.raises(ValueError, match="fitted without groups"):
        loaded.predict(frame, groups=np.zeros(len(frame)))


@pytest.mark.parametrize("saver", ["joblib", "skops"])
def test_a_file_from_a_newer_format_says_why_it_cannot_load(saved, tmp_path, monkeypatch, saver):
    clf, _ = saved
    path = tmp_path / f"model.{saver}"
    with monkeypatch.context() as newer_version:
        newer_version.setattr(_base, "STATE_FORMAT", _base.STATE_FORMAT + 1)
        joblib.dump(clf, path) if saver == "joblib" else sio.dump(clf, path)
    current = _base.STATE_FORMAT
    with pytest.raises(
        ValueError,
        match=rf"newer bnn_sklearn \(state format {current + 1}; .* up to {current}\).*Upgrade",
    ):
        joblib.load(path) if saver == "joblib" else sio.load(path, trusted=TRUSTED_TYPES)


def test_pickling_leaves_the_estimator_as_it_was(moons):
    X, y = moons
    clf = BayesianMLPClassifier(**FAST).fit(X, y)
    before = set(vars(clf))
    state = clf.__getstate__()
    state["coefs_mean_"] = None
    pickle.dumps(clf)
    assert set(vars(clf)) == before and clf.coefs_mean_ is not None


@pytest.mark.parametrize("name", ["rhat_", "classes_", "coefs_std_"])
def test_a_state_without_a_fitted_attribute_is_refused(saved, name):
    clf, _ = saved
    state = clf.__getstate__()
    del state[name]
    with pytest.raises(ValueError, match=f"damaged or was edited: it has no {name}"):
        BayesianMLPClassifier().__setstate__(state)


def test_fitting_writes_every_declared_attribute(saved):
    clf, _ = saved
    assert set(BayesianMLPClassifier._fitted_attributes()) <= set(vars(clf))
