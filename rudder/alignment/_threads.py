"""One BLAS thread around the small matrix products of the alignment and the encoders.

The profile DP multiplies small blocks (``weighted_a @ counts_b.T``, a few hundred rows):
a multi-threaded BLAS gains nothing on them, and its threads fight the user's envs and
learner for the cores (measured: 100 demonstrations x 200 events took 2.1-2.7 s with one
other busy process on a 2-core machine, 0.6 s with one BLAS thread). :func:`single_blas_thread`
limits every loaded BLAS to one thread for the duration of a call, with ``threadpoolctl``
(a dependency of scikit-learn); the controller is built once, so entering the limit costs
about 20 microseconds, and a limit already in force in this thread (an alignment calling
the profile merges, each limited too) is not entered again.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = ["blas_threads", "single_blas_thread"]

_Function = TypeVar("_Function", bound=Callable[..., Any])
_controller: Any = None
_in_force = threading.local()  # .limit: the limit this thread runs under, if any


def _get_controller() -> Any:
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


@contextlib.contextmanager
def blas_threads(limit: int = 1) -> Iterator[None]:
    """Limits the BLAS libraries loaded at the first call to ``limit`` threads inside the block."""
    outer = getattr(_in_force, "limit", None)
    if outer == limit:
        yield
        return
    _in_force.limit = limit
    try:
        with _get_controller().limit(limits=limit, user_api="blas"):
            yield
    finally:
        _in_force.limit = outer


def single_blas_thread(function: _Function) -> _Function:
    """Decorator: ``function`` runs with every BLAS limited to one thread."""

    @functools.wraps(function)
    def limited(*args: Any, **kwargs: Any) -> Any:
        with blas_threads(1):
            return function(*args, **kwargs)

    return limited  # type: ignore[return-value]
