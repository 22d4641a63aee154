"""The fast paths' command-line reader (cli/plainargs.py) against click's own parsing of the typer commands.

Whatever it reads, click reads alike (same values for every option and positional); what it does not
understand completely it refuses (None), for typer to read and explain.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import typer_command
from hubtool.cli import quickcheck, quickpublish, quickupgrade
from hubtool.cli.plainargs import Command

COMMANDS = {"check": quickcheck.COMMAND, "publish": quickpublish.COMMAND, "upgrade-ms": quickupgrade.COMMAND}


def normal(value: object) -> object:
    """A value as click leaves it before typer converts it (paths and numbers as click's types give them)."""
    if isinstance(value, list | tuple):
        return tuple(normal(v) for v in value)
    return str(value) if isinstance(value, Path) else value


def clicks(name: str, args: list[str]) -> dict[str, object] | None:
    """What click reads, each value converted as the fast path's command converts it (typer does the same
    after click: a path "" is Path("") then, which is Path("."))."""
    command = typer_command(name)
    spec = COMMANDS[name]
    convert = {o.dest: o.convert for o in spec.options} | {p.dest: p.convert for p in spec.positionals}
    try:
        with command.make_context(name, list(args)) as ctx:
            params = dict(ctx.params)
    except click.exceptions.Exit:
        return None
    except click.ClickException:
        return None
    out = {}
    for key, value in params.items():
        value = value.value if hasattr(value, "value") else value  # an enum: its value
        if isinstance(value, tuple):
            out[key] = tuple(normal(convert[key](v)) for v in value)
        else:
            out[key] = value if value is None or isinstance(value, bool) else normal(convert[key](value))
    return out


def words(name: str) -> st.SearchStrategy[str]:
    command = COMMANDS[name]
    names = [n for option in command.options for n in option.names]
    odd = ["--", "-", "-fjson", "--format=json", "--format=xml", "--strict=yes", "--sel", "--in-pl", "--jobs=0",
           "--to=", "-h", "--help", "--bogus"]
    values = ["json", "text", "github", "junit", "xml", "a.md", "cards", "-x", "", "3", "0", "-1", "64", "65",
              "x y", "é.md", "HUB2"]
    return st.sampled_from(names + odd + values)


@pytest.mark.parametrize("name", sorted(COMMANDS))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_what_it_reads_click_reads_alike(name: str, data: st.DataObject) -> None:
    args = data.draw(st.lists(words(name), max_size=7))
    read = COMMANDS[name].read(args)
    if read is None:
        return  # typer's to read
    if name == "publish" and not 1 <= int(str(read["jobs"])) <= 64:
        return  # quickpublish.parse refuses it after reading (click's range)
    assert clicks(name, args) == {k: normal(v) for k, v in read.items()}, args


@pytest.mark.parametrize("args", [
    ["a.md", "--format", "json"], ["--format=json", "a.md", "b.md"], ["-f", "github"], ["--strict", "a", "--strict"],
    ["--select", "HUB2", "x", "--select", "HUB1"], ["--config", "", "a"], ["--format", "json", "--format", "text"],
])
def test_plain_forms_are_read(args: list[str]) -> None:
    read = quickcheck.COMMAND.read(args)
    assert read is not None and {k: normal(v) for k, v in read.items()} == clicks("check", args)


@pytest.mark.parametrize("args", [
    ["--"], ["-"], ["-fjson"], ["-f=json"], ["--form", "json"], ["--format", "xml"], ["--format"], ["--config"],
    ["--config", "-x"], ["--strict=yes"], ["--strict=", "a"], ["--bogus"], ["-x"], ["--", "a.md"], ["a", "-1"],
])
def test_anything_else_is_refused(args: list[str]) -> None:
    assert quickcheck.COMMAND.read(args) is None


@pytest.mark.parametrize(("args", "expected"), [
    (["m.ms"], {"source": Path("m.ms"), "dest": None, "in_place": False}),
    (["--in-place", "m.ms", "n.ms"], {"source": Path("m.ms"), "dest": Path("n.ms"), "in_place": True}),
    ([], None), (["a", "b", "c"], None), (["a", "--in-place=1"], None),
])
def test_positionals_are_placed_in_order(args: list[str], expected: dict[str, object] | None) -> None:
    command: Command = quickupgrade.COMMAND
    assert command.read(args) == expected


def test_a_repeated_options_values_are_new_lists_each_time() -> None:
    first = quickcheck.COMMAND.read(["--select", "HUB2"])
    second = quickcheck.COMMAND.read([])
    assert first is not None and second is not None and first["select"] == ["HUB2"] and second["select"] == []
