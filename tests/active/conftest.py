"""Lab tests need root (network namespaces); without it they skip, except
in CI (CI=true), where that is a failure."""

from __future__ import annotations

import os
import shutil

import pytest


def require_netns() -> None:
    problem = None
    if os.geteuid() != 0:
        problem = "network namespaces need root"
    elif shutil.which("ip") is None or shutil.which("dumpcap") is None:
        problem = "ip and dumpcap are needed"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}, and CI runs as root")
        pytest.skip(problem)
