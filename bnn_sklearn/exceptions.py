"""Exceptions raised by bnn_sklearn's estimators."""


class DivergenceError(ValueError):
    """The fit diverged: a loss, a variational parameter or a draw became NaN or infinite.

    The message says what to change: usually standardise the inputs, or lower
    ``learning_rate`` (ADVI) or ``prior_scale``.
    """
