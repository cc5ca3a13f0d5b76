"""The benchmark scripts of bnn_sklearn, one module each, run from the repository root as
``python -m benchmarks.NAME`` (or ``python benchmarks/NAME.py``).

Shared pieces live in two modules, as in scikit-learn's ``asv_benchmarks``:
``benchmarks.datasets`` (the data sets and the far/near split) and ``benchmarks.common``
(timing, the far-against-near AUROC, the results folder, Markdown tables).
"""
