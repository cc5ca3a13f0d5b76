"""Compiled engines kept on disk: a new process loads the engine instead of building it, and
fits exactly as a built one."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytensor
import pytest
from sklearn.datasets import make_moons

from bnn_sklearn import BayesianMLPClassifier, _engine_cache, _inference
from bnn_sklearn._inference import ENGINES, CompiledADVI
from bnn_sklearn._network import GraphKey

from .conftest import FAST

ROOT = Path(__file__).parents[1]
X, y = make_moons(120, noise=0.25, random_state=0)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty engine cache in a temporary folder, and no engine in the process pool."""
    monkeypatch.setattr(_engine_cache, "cache_folder", lambda: tmp_path)
    monkeypatch.delenv(_engine_cache.ENVIRONMENT_VARIABLE, raising=False)
    ENGINES.clear()
    yield tmp_path
    ENGINES.clear()


@pytest.fixture
def builds(monkeypatch):
    """How many engines were built (not loaded) since the test started."""
    count = []
    build = CompiledADVI.__init__

    def counted(self, arch):
        count.append(arch)
        build(self, arch)

    monkeypatch.setattr(CompiledADVI, "__init__", counted)
    return count


def fitted_proba(**params):
    return BayesianMLPClassifier(**(FAST | params)).fit(X, y).predict_proba(X)


def test_a_loaded_engine_fits_exactly_as_a_built_one(cache, builds, monkeypatch):
    first = fitted_proba()
    assert len(builds) == 1 and len(list(cache.glob("*.pkl"))) == 1
    ENGINES.clear()
    loaded = fitted_proba()
    assert len(builds) == 1  # loaded from the file, not built
    ENGINES.clear()
    monkeypatch.setenv(_engine_cache.ENVIRONMENT_VARIABLE, "0")
    built = fitted_proba()
    assert len(builds) == 2
    np.testing.assert_array_equal(loaded, first)
    np.testing.assert_array_equal(loaded, built)


def test_an_engine_serves_every_width_of_its_depth_after_loading(cache, builds):
    fitted_proba()
    ENGINES.clear()
    wider = fitted_proba(hidden_layer_sizes=(13,), batch_size=50)
    ENGINES.clear()
    wider_again = fitted_proba(hidden_layer_sizes=(13,), batch_size=50)
    assert len(builds) == 2  # one per graph (full batch, minibatch); no new width built
    np.testing.assert_array_equal(wider, wider_again)


def test_a_damaged_file_is_built_anew_and_replaced(cache, builds):
    fitted_proba()
    (path,) = cache.glob("*.pkl")
    path.write_bytes(b"not a pickle")
    ENGINES.clear()
    fitted_proba()
    assert len(builds) == 2
    assert path.read_bytes()[:1] == b"\x80"  # a pickle again


@pytest.mark.filterwarnings("ignore:PyTensor could not link to a BLAS")  # read its flags
def test_the_file_depends_on_versions_and_can_be_turned_off(cache, monkeypatch):
    key = GraphKey(2, "tanh", "advi", None, "bernoulli")
    today = _engine_cache.engine_path(key)
    assert today == _engine_cache.engine_path(key) and today.parent == cache
    assert _engine_cache.engine_path(GraphKey(3, "tanh", "advi", None, "bernoulli")) != today
    numba = _engine_cache.engine_path(key, blas=False)
    with pytensor.config.change_flags(blas__ldflags="-lmyblas"):
        assert _engine_cache.engine_path(key) != today  # C code links BLAS with these
        assert _engine_cache.engine_path(key, blas=False) == numba  # Numba's does not
    monkeypatch.setattr(_engine_cache, "_version", lambda name: "0.0")
    assert _engine_cache.engine_path(key) != today
    monkeypatch.setenv(_engine_cache.ENVIRONMENT_VARIABLE, "0")
    fitted_proba()
    assert not list(cache.glob("*"))


def test_engines_compiled_by_numba_are_kept_without_the_blas_flags(cache, monkeypatch):
    """Reading PyTensor's BLAS flags compiles a test program; Numba's code does not use them."""
    blas = []
    path = _engine_cache.engine_path
    monkeypatch.setattr(
        _engine_cache, "engine_path", lambda key, **kw: blas.append(kw["blas"]) or path(key, **kw)
    )
    fitted_proba(max_iter=100)
    fitted_proba(max_iter=100, batch_size=50)
    # Full batch: Numba on both lines; minibatches: C on PyTensor 2, Numba on 3.
    assert blas == [False, _inference._PYTENSOR_MAJOR < 3]


NEW_PROCESS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import bnn_sklearn._engine_cache as cache
    from bnn_sklearn._inference import CompiledADVI
    cache.cache_folder = lambda: Path(sys.argv[1])
    builds = []
    build = CompiledADVI.__init__
    def counted(self, arch):
        builds.append(1)
        build(self, arch)
    CompiledADVI.__init__ = counted
    from tests.test_engine_cache import fitted_proba
    proba = fitted_proba()
    loaded = {"builds": len(builds), "pymc": "pymc" in sys.modules}
    # The process then imports PyMC and builds an engine that is not on disk.
    import os, pymc
    os.environ[cache.ENVIRONMENT_VARIABLE] = "0"
    fitted_proba(hidden_layer_sizes=(4, 4), max_iter=200)
    print(json.dumps({**loaded, "proba": proba[:, 1].tolist(), "then": len(builds)}))
    """
)


def test_a_new_process_loads_the_engine_and_predicts_the_same(tmp_path):
    """The second process loads the engine without importing PyMC, fits the same as the
    first, and can import PyMC and build another engine afterwards (loading an engine left
    nothing behind that PyMC's import trips on)."""

    def run() -> dict:
        environment = {**os.environ, "PYTHONPATH": str(ROOT)}
        environment.pop(_engine_cache.ENVIRONMENT_VARIABLE, None)
        done = subprocess.run(
            [sys.executable, "-c", NEW_PROCESS, str(tmp_path)],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first, second = run(), run()
    assert (first["builds"], second["builds"]) == (1, 0)
    assert not second["pymc"]
    assert (first["then"], second["then"]) == (2, 1)
    assert first["proba"] == second["proba"]
    ENGINES.clear()
    np.testing.assert_array_equal(fitted_proba()[:, 1], second["proba"])
