"""`hubtool inspect`: what a file really is, from its bytes, and with --load what the runtime makes of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..diagnostics import printable
from ..durable import JSON, JSONObject
from ..errors import UsageError
from .app import app, handled
from .common import FORMAT_HELP, TextOrJson, existing

if TYPE_CHECKING:
    from ..assets.inspect import FileFacts
    from ..assets.mindir import TensorInfo


@app.command("inspect")
@handled
def inspect_cmd(
    files: list[Path] = typer.Argument(..., help="Files to inspect."),
    load: bool = typer.Option(False, "--load", help="Also build each MSL2 model in the real runtime "
                                                    "(a sandboxed worker) and report what it says."),
    fmt: TextOrJson = typer.Option(TextOrJson.text, "--format", "-f", help=FORMAT_HELP),
) -> None:
    """Say what a file really is from its bytes (.ms format, version and operators, ONNX, LFS pointer, HTML...)."""
    from ..assets.inspect import inspect_file

    out = []
    for path in existing(files):
        if not path.is_file():
            raise UsageError(f"not a file: {path}")
        facts = inspect_file(path)
        out.append(_facts(path, facts, load=load))
    if fmt is TextOrJson.json:
        typer.echo(json.dumps(out, indent=2, sort_keys=True))
        return
    for item in out:  # a model file's names and strings are the file author's: shown inert
        typer.echo(printable(f"{item['path']}: {item['kind']}: {item['description']}"))
        for line in _text_lines(item):
            typer.echo(f"    {printable(line)}")


def _facts(path: Path, facts: FileFacts, *, load: bool) -> JSONObject:
    from ..legacy.upgrade import legacy_verdict

    item: JSONObject = {"path": str(path), "kind": facts.kind, "description": facts.description, **facts.details}
    if facts.ms_format in ("v0", "MSL1"):
        verdict = legacy_verdict(path)
        item.update(operators=dict(verdict.histogram), translatable=verdict.translatable,
                    refusals=list(verdict.grouped_refusals))
    elif facts.kind == "ckpt":
        item.update(_checkpoint(path))
    elif facts.kind == "mindir":
        item.update(_mindir(path))
    elif facts.ms_format == "MSL2":
        item.update(_msl2(path, load=load))
        loaded = item.get("load")
        if isinstance(loaded, dict):  # now it is known: say it in the one-line verdict too
            said = {"loaded": "loaded by runtime 2.0.0 (--load)", "does-not-build": "does not build in runtime 2.0.0 "
                    "(--load)"}.get(str(loaded["status"]), f"not loaded: {loaded['message']}")
            item["description"] = facts.description.replace("not yet loaded", said)
    return item


def _checkpoint(path: Path) -> JSONObject:
    from ..assets.ckpt import read_checkpoint

    found = read_checkpoint(path)  # inspect_file read it already: a damaged one is said, not raised
    return {"parameters": [{"name": p.name, "dtype": p.dtype, "shape": list(p.shape), "bytes": p.nbytes}
                           for p in found.parameters], "problems": list(found.problems)}


def _mindir(path: Path) -> JSONObject:
    from ..assets.mindir import read_mindir

    model = read_mindir(path)  # inspect_file read it already: what does not read is "unknown", not mindir

    def tensors(group: list[TensorInfo]) -> list[JSON]:
        return [{"name": t.name, "dtype": t.dtype, "shape": list(t.shape)} for t in group]

    return {"graph": model.graph, "mind-ir-version": model.mind_ir_version, "inputs": tensors(model.inputs),
            "outputs": tensors(model.outputs), "operators": dict(model.operators.most_common())}


def _msl2(path: Path, *, load: bool) -> JSONObject:
    from ..errors import LegacyFormatError
    from ..legacy.msl2_ops import read_file_operators

    found: JSONObject = {}
    try:
        ops = read_file_operators(path)
        found.update(operators=dict(ops.histogram), training=dict(ops.training), blockers=list(ops.blockers()))
    except LegacyFormatError as exc:
        found["blockers"] = [exc.message]
    if load:
        from ..runtimes.mslite.loadcheck import load_check

        outcome = load_check(path)
        found["load"] = {"status": outcome.status, "message": outcome.message, "inputs": list(outcome.inputs),
                         "native": list(outcome.native)}
    return found


#: parameters listed in text; --format json lists them all
SHOWN_PARAMETERS = 12


def _text_lines(item: JSONObject) -> list[str]:
    lines = []
    for group in ("inputs", "outputs"):
        listed = item.get(group)
        if isinstance(listed, list):
            lines += [f"{group[:-1]} {t['name']} {t['dtype']} {t['shape']}" for t in listed if isinstance(t, dict)]
    parameters = item.get("parameters")
    if isinstance(parameters, list):
        for p in parameters[:SHOWN_PARAMETERS]:
            if isinstance(p, dict):
                lines.append(f"{p['name']} {p['dtype']} {p['shape']}")
        if len(parameters) > SHOWN_PARAMETERS:
            lines.append(f"... {len(parameters) - SHOWN_PARAMETERS:,} more (`--format json` lists them all)")
        problems = item.get("problems")
        lines += [f"problem: {x}" for x in (problems if isinstance(problems, list) else [])]
    operators = item.get("operators")
    if isinstance(operators, dict) and operators:
        lines.append("operators: " + ", ".join(f"{name} {count}" for name, count in operators.items()))
    training = item.get("training")
    if isinstance(training, dict) and training:
        lines.append("a training graph: " + ", ".join(training))
    if "translatable" in item:
        refusals = item.get("refusals")
        lines.append("translator: can translate it to MSL2 (`hubtool upgrade-ms`)" if item["translatable"]
                     else "translator: refuses:")
        lines += [f"  - {r}" for r in (refusals if isinstance(refusals, list) and not item["translatable"] else [])]
    blockers = item.get("blockers")
    if isinstance(blockers, list):
        lines += [f"runtime 2.0.0 will not build it: {b}" for b in blockers]
        if not blockers and "load" not in item:
            lines.append("nothing in its bytes is known against runtime 2.0.0; `hubtool inspect --load` builds it")
    loaded = item.get("load")
    if isinstance(loaded, dict):
        lines.append(f"--load: {loaded['message']}")
        lines += [f"  input {i}" for i in loaded.get("inputs") or []]  # type: ignore[union-attr]
        lines += [f"  runtime: {n}" for n in loaded.get("native") or []]  # type: ignore[union-attr]
    return lines
