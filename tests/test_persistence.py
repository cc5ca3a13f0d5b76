"""Saving and loading: joblib, skops with only this package's types trusted, old files."""

import json
import shutil
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bnn_sklearn import TRUSTED_TYPES, BayesianMLPClassifier

from .conftest import FAST

DATA = Path(__file__).parent / "data"
sio = pytest.importorskip("skops.io")


@pytest.fixture(scope="module")
def named_frame_and_labels():
    pd = pytest.importorskip("pandas")
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
    assert sio.get_untrusted_types(file=path) == TRUSTED_TYPES
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
    assert sio.get_untrusted_types(file=tmp_path / "pipeline.skops") == TRUSTED_TYPES
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


def test_edited_arrays_and_truncated_files_are_refused(saved, tmp_path):
    _, path = saved
    schema = json.loads(zipfile.ZipFile(path).read("schema.json"))
    first_weights = schema["content"]["content"]["coefs_mean_"]["content"][0]["file"]

    def wrong_shape(_: bytes) -> bytes:
        target = tmp_path / "array.npy"
        np.save(target, np.zeros((3, 3)))
        return target.read_bytes()

    rewrite_member(path, tmp_path / "edited.skops", first_weights, wrong_shape)
    with pytest.raises(ValueError, match=r"damaged or was edited.*shape \(3, 3\)"):
        sio.load(tmp_path / "edited.skops", trusted=TRUSTED_TYPES)

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
    assert loaded.validation_loss_ is None
    loaded.set_params(warm_start=True, max_iter=100).fit(frame, labels)
    assert loaded.n_iter_ == 400


def test_a_model_from_a_newer_format_says_why_it_cannot_load(saved):
    clf, _ = saved
    state = clf.__getstate__()
    state["_state_format"] = 99
    with pytest.raises(ValueError, match=r"newer bnn_sklearn.*Upgrade"):
        BayesianMLPClassifier.__new__(BayesianMLPClassifier).__setstate__(state)
