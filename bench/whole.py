"""Timing whole processes from outside, the way a user runs them, for every bench in this folder.

Each command is started by a small launcher (a bare `python -S`) that times it and reaps it
with wait4(), so its wall time includes interpreter start-up and its peak RSS is its own:
not the maximum over every child this process had (RUSAGE_CHILDREN), and not inflated by
this process's own memory, which a child forked from here inherits into its high-water
mark at exec.  A figure therefore never reads below the launcher's ~10 MiB.  Commands and their
baselines run in alternating rounds (A B A B ...) so that drift, page-cache state and
frequency changes hit every side alike; figures are median (min-max).  CPU is user + system time of
the process and of the children it waited for (a check's worker processes), as wait4() reports it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HUBTOOL = str(Path(sys.executable).parent / "hubtool")


@dataclass(frozen=True)
class Run:
    seconds: float
    rss_mib: float
    code: int
    cpu: float  # user + system seconds, with the children it reaped


LAUNCHER = """
import os, sys, time
null = os.open(os.devnull, os.O_RDWR)
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(null, 1); os.dup2(null, 2)
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status),
      usage.ru_utime + usage.ru_stime)
"""


def run(cmd: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None,
        allowed: Sequence[int] = (0,)) -> Run:
    """One whole process: wall seconds from fork to reap, and its own peak RSS."""
    out = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *cmd], cwd=cwd,
                         env=dict(env) if env is not None else None, capture_output=True, text=True, check=True)
    seconds, rss_kib, code, cpu = out.stdout.split()
    if int(code) not in allowed:
        raise SystemExit(f"bench command failed with {code}: {' '.join(cmd)}")
    return Run(float(seconds), int(rss_kib) / 1024, int(code), float(cpu))


def together(commands: Sequence[Sequence[str]], cwd: Path | None = None,
             envs: Sequence[Mapping[str, str]] | None = None, allowed: Sequence[int] = (0,)) -> tuple[float, list[Run]]:
    """Start every command at once (as n CI jobs would) and wait for all: the wall time until the last
    one ends, and each one's own figures."""
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER, *cmd], cwd=cwd, text=True,
                              env=dict(envs[i]) if envs is not None else None, stdout=subprocess.PIPE)
             for i, cmd in enumerate(commands)]
    runs = []
    for cmd, proc in zip(commands, procs, strict=True):
        out, _ = proc.communicate()
        seconds, rss_kib, code, cpu = out.split()
        if int(code) not in allowed:
            raise SystemExit(f"bench command failed with {code}: {' '.join(cmd)}")
        runs.append(Run(float(seconds), int(rss_kib) / 1024, int(code), float(cpu)))
    return time.perf_counter() - start, runs


def alternate(commands: Mapping[str, Sequence[str]], rounds: int, cwd: Path | None = None,
              env: Mapping[str, str] | None = None, after: Callable[[str], None] | None = None,
              allowed: Sequence[int] = (0,)) -> dict[str, list[Run]]:
    """Run the commands in turn, round after round; `after(name)` resets state between runs."""
    results: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            results[name].append(run(cmd, cwd, env, allowed))
            if after is not None:
                after(name)
    return results


def seconds(runs: Sequence[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def line(name: str, runs: Sequence[Run], base: Sequence[Run] | None = None, width: int = 44) -> str:
    times = [r.seconds for r in runs]
    rss = [r.rss_mib for r in runs]
    cpu = statistics.median(r.cpu for r in runs)
    text = (f"  {name:<{width}} {statistics.median(times):7.3f} s ({min(times):.3f}-{max(times):.3f})"
            f"  peak RSS {statistics.median(rss):5.0f} MiB  CPU {cpu:6.3f} s")
    if base is not None and base is not runs:
        base_cpu = statistics.median(r.cpu for r in base)
        text += f"  = {seconds(runs) / seconds(base):.2f}x" + (f" (CPU {cpu / base_cpu:.2f}x)" if base_cpu else "")
    return text


def report(title: str, results: Mapping[str, Sequence[Run]], base: str | None = None) -> None:
    print(title)
    for name, runs in results.items():
        print(line(name, runs, results[base] if base else None))


def arguments(description: str, rounds: int, port: bool = False, sections: Sequence[str] = (),
              extra: Sequence[tuple[str, type, str]] = ()) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for flag, kind, text in extra:
        parser.add_argument(flag, type=kind, default=None, help=text)
    if sections:
        parser.add_argument("--only", action="append", choices=list(sections), help="run only these parts")
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", rounds)),
                        help="alternating rounds per comparison")
    if port:
        parser.add_argument("--port", type=int, default=0, help="port for the loopback server (0: ephemeral)")
    return parser.parse_args()


def compile_sources() -> None:
    """What `pip install` does: byte-compile the package.

    This machine sets PYTHONDONTWRITEBYTECODE, so an edited checkout would otherwise
    recompile its changed modules in every timed run.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], check=True,
                   stdout=subprocess.DEVNULL)
