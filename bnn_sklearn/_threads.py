"""How many threads the BLAS library may use while the engines and predictions run."""

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
