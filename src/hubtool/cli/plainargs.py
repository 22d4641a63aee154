"""The fast paths' reading of a command line: a command's options in their plain forms, nothing else.

The fast paths (`quickcheck`, `quickupgrade`, `quickpublish`) run a command without typer and click
only when they understand its command line completely, and hand every other one to the typer
command, which reads it as it always did and says what is wrong in its own words.  So this reader
only has to know the plain forms and to refuse the rest: options by their exact names (no
abbreviations: click has none), `--name value`, `--name=value`, `-n value`, flags, and positionals
before, between and after them.  Anything else is None: `--`, `-` alone, a cluster such as
`-fjson`, a value that starts with `-` (a negative number, or a forgotten value), a flag given a
value, a value not among the choices or not a number, too many or too few positionals.

argparse did this before; with its import and gettext's look-ups for every message it might
print (it builds them while the parser is declared) it was ~3 ms of a ~90 ms pre-commit run.
The tests hold each command's options here equal to its typer command's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

#: what an option takes: nothing (a flag, True when given), one value (the last one given wins, as in
#: click), or a value each time it is given (all of them, in order)
Takes = Literal["flag", "value", "values"]
Convert = Callable[[str], object]


class Option(NamedTuple):
    names: tuple[str, ...]  # "--format", "-f"
    dest: str
    takes: Takes = "value"
    convert: Convert = str  # ValueError or TypeError: a bad value, for typer to say
    choices: tuple[str, ...] = ()  # empty: any value
    default: object = None  # a flag's is False, a repeated option's a new empty list


class Positional(NamedTuple):
    dest: str
    convert: Convert = str
    many: bool = False  # zero or more: every positional left
    required: bool = True


class Command(NamedTuple):
    """A command's positionals and options, as its typer command declares them."""

    positionals: tuple[Positional, ...]
    options: tuple[Option, ...]

    def read(self, args: Sequence[str]) -> dict[str, object] | None:
        """Every positional's and option's value by its dest; None unless `args` is all in plain forms."""
        found: dict[str, object] = {o.dest: _default(o) for o in self.options}
        by_name = {name: option for option in self.options for name in option.names}
        words: list[str] = []
        i = 0
        while i < len(args):
            token = args[i]
            i += 1
            if not token.startswith("-"):
                words.append(token)
                continue
            name, has_value, value = token.partition("=") if token.startswith("--") else (token, "", "")
            option = by_name.get(name)
            if option is None:
                return None
            if option.takes == "flag":
                if has_value:
                    return None
                found[option.dest] = True
                continue
            if not has_value:
                if i == len(args) or args[i].startswith("-"):
                    return None
                value = args[i]
                i += 1
            if option.choices and value not in option.choices:
                return None
            try:
                converted = option.convert(value)
            except (ValueError, TypeError):
                return None
            if option.takes == "values":
                values = found[option.dest]
                assert isinstance(values, list)
                values.append(converted)
            else:
                found[option.dest] = converted
        placed = self._placed(words)
        return None if placed is None else {**found, **placed}

    def _placed(self, words: list[str]) -> dict[str, object] | None:
        placed: dict[str, object] = {}
        rest = list(words)
        for positional in self.positionals:
            try:
                if positional.many:
                    placed[positional.dest] = [positional.convert(w) for w in rest]
                    rest = []
                elif rest:
                    placed[positional.dest] = positional.convert(rest.pop(0))
                elif positional.required:
                    return None
                else:
                    placed[positional.dest] = None
            except (ValueError, TypeError):
                return None
        return None if rest else placed


def _default(option: Option) -> object:
    if option.takes == "flag":
        return False
    return [] if option.takes == "values" else option.default
