"""One BLAS thread around the alignment, entered once however deeply the calls nest."""

import threadpoolctl

from rudder.alignment import _threads
from rudder.alignment._threads import blas_threads, single_blas_thread


def test_the_limit_holds_inside_and_is_entered_once_when_nested(monkeypatch):
    controller = _threads._get_controller()
    entered = []
    original = type(controller).limit

    def counting_limit(self, **kwargs):
        entered.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(type(controller), "limit", counting_limit)

    @single_blas_thread
    def inner():
        return [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]

    @single_blas_thread
    def outer():
        return [inner() for _ in range(3)]

    for threads in outer():
        assert all(count == 1 for count in threads)
    assert len(entered) == 1  # the three inner calls ran under the outer limit
    with blas_threads(2):
        inner()  # another limit than the one in force is entered
    assert len(entered) == 3
