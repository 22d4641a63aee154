"""hubtool: validate, fetch, golden-test and publish the model cards of a model hub."""

from __future__ import annotations

__version__ = "0.1.0"
