"""hubtool: validate, fetch, golden-test and publish the model cards of a model hub.

One folder per part, each importing only the parts below it (checked by import-linter):
`cli` -> `publish` -> `golden` -> `runtimes` | `legacy` -> `assets` -> `cards` -> the floor.
The floor is the modules beside this file (errors, diagnostics, config, durable, progress,
yamlsource, yamlfile, schema): they import no part, and nothing heavy.
"""

from __future__ import annotations

__version__ = "0.1.0"
