"""Test-wide settings: keep every tool's caches out of $HOME and make runs deterministic."""

import os
import tempfile

_scratch = tempfile.mkdtemp(prefix="lstmlab-tests-")
for _name, _value in {
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": os.path.join(_scratch, "mpl"),
    "KERAS_BACKEND": "torch",
    "KERAS_HOME": os.path.join(_scratch, "keras"),
    "XDG_CONFIG_HOME": os.path.join(_scratch, "config"),
    "XDG_CACHE_HOME": os.path.join(_scratch, "cache"),
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
}.items():
    os.environ.setdefault(_name, _value)

import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global seed; tests that need streams pass generators."""
    torch.manual_seed(0)
    yield
