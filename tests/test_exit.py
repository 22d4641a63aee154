"""How a finished command ends (`hubtool.cli._end_without_teardown`): without the interpreter's
teardown, yet with its exit status, all of its output and every exit handler registered while it ran.
An exit handler registered before hubtool started (a coverage hook, say) keeps the usual teardown.
Output that cannot be written (`| head`, a full disk) ends the command with its own exit code, not as a bug."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import card_text, write_hub

# An object freed only by the teardown says so; an exit handler registered while the command runs
# (as the golden command's spares are) says so too, and leaves text without a newline in stdout's buffer.
PROBE = """
import atexit, sys
class Teardown:
    def __del__(self):
        sys.stderr.write("teardown ran\\n")
kept = Teardown()
if sys.argv[1] == "hook-first":
    atexit.register(lambda: sys.stderr.write("earlier hook ran\\n"))
import hubtool.cli.quickcheck as quick
real = quick.fast_check
tail = sys.argv[1] != "no-tail"
def fast_check(argv):
    atexit.register(lambda: sys.stderr.write("handler ran\\n") and tail and sys.stdout.write("(no newline)"))
    return real(argv)
quick.fast_check = fast_check
del sys.argv[1]
from hubtool.cli import main
main()
"""


def buffered() -> dict[str, str]:
    """This machine sets PYTHONUNBUFFERED; a user's usually does not, and then stdout keeps a buffer."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def probe(cwd: Path, mode: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, mode, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=buffered())


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    def bad(i: int) -> str:  # three errors per card
        return card_text(**{"model-name": f"bad{i}", "used-for": f"nonsense {i}", "module-type": f"nonsense {i}",
                            "fine-tunable": f"nonsense {i}"})

    write_hub(tmp_path, {"u/good.md": card_text(), **{f"u/bad{i:03d}.md": bad(i) for i in range(400)}})
    return tmp_path


def test_status_output_and_handlers_are_kept_and_the_teardown_skipped(hub: Path) -> None:
    passing = probe(hub, "plain", "check", "cards/u/good.md")
    assert (passing.returncode, passing.stderr) == (0, "handler ran\n")
    failing = probe(hub, "plain", "check", "cards")
    assert failing.returncode == 1 and failing.stderr == "handler ran\n"
    # far more than a pipe holds (64 KiB): the last of it was still buffered when the command returned
    assert len(failing.stdout) > 3 * 65_536
    assert all(f"bad{i:03d}.md" in failing.stdout for i in range(400))
    assert failing.stdout.endswith("401 cards checked: 1200 errors, 0 warnings\n(no newline)")
    usage = probe(hub, "plain", "check", "--no-such-option")
    assert usage.returncode == 2 and "teardown ran" not in usage.stderr


def test_an_exit_hook_registered_before_hubtool_keeps_the_teardown(hub: Path) -> None:
    done = probe(hub, "hook-first", "check", "cards")
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["handler ran", "earlier hook ran", "teardown ran"]


def test_a_traceback_keeps_the_teardown(hub: Path) -> None:
    # a failure hubtool does not turn into a status (here: an import that breaks) ends as Python ends
    broken = PROBE.replace("return real(argv)", "raise ImportError('broken install')")
    done = subprocess.run([sys.executable, "-c", broken, "plain", "check", "cards"], cwd=hub, capture_output=True,
                          text=True, timeout=120, env=buffered())
    assert done.returncode == 1 and "ImportError: broken install" in done.stderr
    assert "teardown ran" in done.stderr


@pytest.mark.parametrize("fmt", ["text", "json"], ids=["fast-path", "typer"])
def test_output_to_a_closed_pipe_ends_quietly(hub: Path, fmt: str) -> None:
    # the fast path prints the text report; --format json goes through the typer application
    proc = subprocess.Popen([sys.executable, "-c", PROBE, "no-tail", "check", "--format", fmt, "cards"], cwd=hub,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=buffered())
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()  # as `hubtool check | head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141  # 128 + SIGPIPE, as a shell shows for `yes | head`
    assert err == "handler ran\n"  # no "internal error", no crash log


@pytest.mark.parametrize("fmt", ["text", "json"], ids=["fast-path", "typer"])
def test_output_to_a_full_disk_is_an_output_error(hub: Path, fmt: str) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-c", PROBE, "no-tail", "check", "--format", fmt, "cards"], cwd=hub,
                              stdout=full, stderr=subprocess.PIPE, text=True, env=buffered(), timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["hubtool: output error: cannot write the output: No space left on device",
                                        "handler ran"]
    assert not (hub / "home").exists() or not list((hub / "home").rglob("crash-*.log"))


@pytest.mark.parametrize(("sink", "status", "said"), [
    ("open('/dev/full', 'w')", 2, "hubtool: output error: cannot write the output: No space left on device\n"),
    ("os.fdopen(closed_pipe(), 'w')", 141, ""),
], ids=["full-disk", "closed-pipe"])
def test_output_still_buffered_at_the_end_that_cannot_be_written(sink: str, status: int, said: str) -> None:
    """What an exit handler left in stdout's buffer is written by the last handler; if it cannot be, the
    status says so as a command's own output failure does."""
    code = ("import os, sys\n"
            "def closed_pipe():\n"
            "    read, write = os.pipe()\n"
            "    os.close(read)\n"
            "    return write\n"
            f"sys.stdout = {sink}\n"
            "sys.stdout.write('left in the buffer')\n"
            "import hubtool.cli as cli\n"
            "cli._STATUS.append(0)\n"
            "cli._end_without_teardown()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=buffered())
    assert (done.returncode, done.stderr) == (status, said)
