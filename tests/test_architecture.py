"""The rules the code keeps (README "Layout"), checked on every `make test`.

Layers by import-linter (and proof that a wrong import breaks them); small modules and
functions; every exception in errors.py; no catch-all outside the CLI; no `Any` in a
public signature; only the CLI prints.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import REPO

SRC = REPO / "src" / "hubtool"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: run inside the runtime envs (CPython 3.7 and 3.11), not in hubtool: their own rules (3.7 syntax where
#: Lite loads them, untyped, one catch-all that answers every failure as data)
WORKER_SIDE = {SRC / "runtimes" / "wire.py", SRC / "runtimes" / "mslite" / "worker.py",
               SRC / "runtimes" / "mindspore" / "worker.py", SRC / "runtimes" / "mindspore" / "sandbox.py"}
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40


def modules() -> Iterator[tuple[Path, ast.Module, str]]:
    for path in sorted(SRC.rglob("*.py")):
        if path not in WORKER_SIDE:
            text = path.read_text(encoding="utf-8")
            yield path, ast.parse(text), text


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = None
    if pythonpath is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(REPO / "pyproject.toml")], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=120)


def test_import_contracts_hold() -> None:
    proc = _lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize("module, wrong", [
    ("cards/card.py", "from ..assets import layout"),  # cards may not climb to assets
    ("assets/store.py", "from ..publish import ledger"),  # nor assets to publish
    ("yamlfile.py", "from .cards import card"),  # the floor imports no part
    ("cards/rules.py", "import numpy"),  # the pre-commit path stays light
    ("golden/sets.py", "import rich"),  # only the CLI draws
])
def test_a_wrong_import_breaks_the_contracts(tmp_path: Path, module: str, wrong: str) -> None:
    copy = tmp_path / "src" / "hubtool"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text() + f"\n{wrong}  # noqa\n")
    proc = _lint_imports(tmp_path, tmp_path / "src")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 broken" in proc.stdout


def _long_reason(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return first >= 2 and lines[first - 2].strip().startswith("# long:")


def test_modules_and_functions_are_small() -> None:
    problems = []
    for path, tree, text in modules():
        lines = text.splitlines()
        if len(lines) > MAX_MODULE_LINES:
            problems.append(f"{path.relative_to(REPO)}: {len(lines)} lines")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES and not _long_reason(lines, node):
                    problems.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: {length} lines "
                                    "(split it, or say why in a '# long:' comment above it)")
    assert not problems, "\n".join(problems)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_exception_is_in_the_error_tree() -> None:
    from hubtool.errors import HubtoolError

    outside = []
    for path, _, _ in modules():
        module = importlib.import_module(_module_name(path))
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                if module.__name__ != "hubtool.errors" or not issubclass(obj, HubtoolError):
                    outside.append(f"{module.__name__}.{name}")
    assert not outside, f"exceptions outside hubtool.errors' tree: {outside}"


def _reraises(handler: ast.ExceptHandler) -> bool:
    """A BaseException handler cleans up and re-raises (or hands the error to the thread that re-raises it)."""
    for node in ast.walk(handler):
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "_error"
                                                for t in node.targets):
            return True
    return False


# the two boundaries where a bug becomes a message: the CLI (the command), publish's isolation (one card);
# and the process boundary where a forked child's exception is handed to its parent, which raises it
ISOLATION = REPO / "src" / "hubtool" / "publish" / "isolation.py"
FORKMAP = REPO / "src" / "hubtool" / "forkmap.py"


def test_no_catch_all_outside_the_cli() -> None:
    problems = []
    for path, tree, _ in modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ExceptHandler):
                continue
            names = [n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)] if node.type else ["(bare)"]
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            if {"Exception", "(bare)"} & set(names) and "cli" not in path.parts and path not in (ISOLATION, FORKMAP):
                problems.append(f"{where}: catches everything")
            if "BaseException" in names and not _reraises(node):
                problems.append(f"{where}: catches BaseException without re-raising")
    assert not problems, "\n".join(problems)


def _signature_annotations(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    args = node.args
    found = [a.annotation for a in args.posonlyargs + args.args + args.kwonlyargs if a.annotation]
    found += [a.annotation for a in (args.vararg, args.kwarg) if a is not None and a.annotation]
    return found + ([node.returns] if node.returns else [])


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def test_no_any_in_public_signatures() -> None:
    problems = []
    for path, tree, text in modules():
        scopes: list[tuple[ast.AST, str]] = [(tree, "")]
        while scopes:
            scope, prefix = scopes.pop()
            for node in ast.iter_child_nodes(scope):
                if isinstance(node, ast.ClassDef) and _public(node.name):
                    scopes.append((node, f"{prefix}{node.name}."))
                    fields = [n.annotation for n in node.body if isinstance(n, ast.AnnAssign)
                              and isinstance(n.target, ast.Name) and _public(n.target.id)]
                    annotations = [(f"{prefix}{node.name} fields", a) for a in fields]
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(node.name):
                    annotations = [(f"{prefix}{node.name}", a) for a in _signature_annotations(node)]
                else:
                    continue
                for name, annotation in annotations:
                    segment = ast.get_source_segment(text, annotation) or ""
                    if re.search(r"\bAny\b", segment):
                        problems.append(f"{path.relative_to(REPO)}: {name}: {segment}")
    assert not problems, "\n".join(problems)


def test_only_the_cli_prints() -> None:
    problems = []
    for path, tree, _ in modules():
        if "cli" in path.relative_to(SRC).parts:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                problems.append(f"{path.relative_to(REPO)}:{node.lineno}: print()")
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr", "isatty") \
                    and isinstance(node.value, ast.Name) and node.value.id == "sys":
                problems.append(f"{path.relative_to(REPO)}:{node.lineno}: sys.{node.attr}")
    assert not problems, "\n".join(problems)
