"""The real MindSpore Lite runtime for tests: required, unless HUBTOOL_SKIP_RUNTIME=1 is set on purpose."""

from __future__ import annotations

import os

import pytest

from hubtool.runtimes.mslite_env import RuntimeEnv, installed_env


def runtime_env() -> RuntimeEnv:
    env = installed_env()
    if env is None:
        if os.environ.get("HUBTOOL_SKIP_RUNTIME") == "1":
            pytest.skip("HUBTOOL_SKIP_RUNTIME=1: MindSpore Lite runtime tests deliberately skipped")
        pytest.fail("the MindSpore Lite runtime is not installed: run `make test` (which installs it), or "
                    "`hubtool runtime install mindspore-lite`; set HUBTOOL_SKIP_RUNTIME=1 to skip on purpose")
    return env
