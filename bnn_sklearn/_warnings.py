"""Warnings reported at the user's line, not at a line inside this package."""

from __future__ import annotations

import os
import sys
import warnings

import sklearn

_INTERNAL = (os.path.dirname(__file__) + os.sep, os.path.dirname(sklearn.__file__) + os.sep)


def warn_at_caller(message: str, category: type[Warning]) -> None:
    """Warn at the first frame outside this package and scikit-learn (whose wrappers and
    meta-estimators call ``fit``), as Python 3.12's ``skip_file_prefixes`` does."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
