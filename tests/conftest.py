"""Settings of the whole test run."""

import importlib.util


def pytest_configure(config):
    """One torch thread: the tests' networks are small, and on a machine whose cores are
    busy (a benchmark beside the tests) torch's thread pool slowed single tests from
    under 1 s to over 30 s."""
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(1)
