"""How many threads the BLAS library and the forward pass may use."""

import os
import warnings
from contextlib import contextmanager

from threadpoolctl import threadpool_limits


def single_threaded_blas():
    """One BLAS thread while compiled steps, samplers or the forward pass run.

    Each of them multiplies small matrices (a minibatch or a few thousand rows by layers of
    tens of units) many thousand times; OpenBLAS's threads cost more than they give there,
    and on a busy machine (another fit, a parallel search) they oversubscribe the cores.
    (64, 64) ReLU units, 20,000 x 20 rows, minibatch 256, beside one other job on 2 cores:
    Python 3.11's C backend 35,615 -> 1,024 us per iteration, Python 3.12's Numba backend
    1,566 -> 581. ``predict_proba`` of the default network on 10,000 rows beside two other
    jobs: 6.3 s with OpenBLAS's two threads, 0.84 s with one.
    """
    return threadpool_limits(limits=1, user_api="blas")


def available_cores() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def forward_threads():
    """One BLAS thread for the forward pass; yields how many threads the pass may use instead.

    The forward pass runs independent chunks of rows side by side, each chunk's matrix
    products single-threaded: unlike OpenBLAS's threads, which meet at every product (and
    wait for each other's share of a busy machine), a chunk never waits for another. It
    takes as many threads as BLAS was allowed before (``OPENBLAS_NUM_THREADS``, a
    ``threadpoolctl`` limit, or joblib's limit inside its workers), and no more than the
    cores this process may run on: inside ``single_threaded_blas()`` or a joblib worker
    limited to one thread it runs in the calling thread alone.
    """
    with single_threaded_blas() as limiter:
        with warnings.catch_warnings():  # two BLAS libraries with different limits: the lower
            warnings.simplefilter("ignore", RuntimeWarning)
            before = limiter.get_original_num_threads().get("blas")
        cores = available_cores()
        yield max(1, min(before or cores, cores))
