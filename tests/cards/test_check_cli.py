"""`hubtool check` and `hubtool schema` through the CLI: exit codes, formats, options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from helpers import REPO, card_text, check_json, run_cli, write_hub


def test_clean_hub_exits_0(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text()})
    code, doc = check_json(str(cards))
    assert (code, doc["summary"]) == (0, {"files": 1, "errors": 0, "warnings": 0, "infos": 0, "baselined": 0})


def test_findings_exit_1_and_all_cards_are_checked(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {
        "u/a.md": card_text(**{"model-name": "a", "evaluation": "-"}),
        "u/b.md": card_text(**{"model-name": "b", "used-for": "nonsense"}),
        "u/c.md": card_text(**{"model-name": "c"}),
    })
    code, doc = check_json(str(cards))
    assert code == 1
    assert sorted(Path(d["path"]).name for d in doc["diagnostics"]) == ["a.md", "b.md"]
    assert doc["summary"] == {"files": 3, "errors": 2, "warnings": 0, "infos": 0, "baselined": 0}


def test_json_diagnostic_fields(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text(extra="asset-sha265: x\n")})
    code, doc = check_json(str(cards))
    [diag] = doc["diagnostics"]
    assert set(diag) == {"path", "line", "col", "code", "severity", "message", "pointer", "hint", "baselined"}
    assert (diag["code"], diag["severity"], diag["pointer"]) == ("HUB205", "warning", "/asset-sha265")
    assert code == 0


def test_strict_makes_warnings_fail(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text(**{"model-version": "1.10"})})
    assert run_cli("check", str(cards)).exit_code == 0
    result = run_cli("check", "--strict", str(cards))
    assert result.exit_code == 1
    assert "HUB110" in result.output and "quote it" in result.output


def test_text_output_is_linter_style(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text(**{"used-for": "inferance"})})
    result = run_cli("check", str(cards))
    first = result.output.splitlines()[0]
    assert first.endswith("HUB203 error: used-for: 'inferance' is not one of: inference, "
                          "extract-feature, transfer-learning")
    assert ":14:11:" in first
    assert "did you mean 'inference'?" in result.output
    assert result.output.rstrip().endswith("1 card checked: 1 error, 0 warnings")


def test_github_and_junit_formats(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text(**{"used-for": "x"}), "u/n.md": card_text(**{"model-name": "n"})})
    gh = run_cli("check", "--format", "github", str(cards)).output
    assert gh.startswith("::error file=") and ",line=14,col=11,title=HUB203::" in gh
    junit = run_cli("check", "--format", "junit", str(cards)).output
    suite = ET.fromstring(junit)
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert len(suite.findall("testcase/failure")) == 1


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli("check", str(tmp_path / "nope")).exit_code == 2
    assert run_cli("check", "--format", "yaml", str(tmp_path)).exit_code == 2
    assert run_cli("check", "--config", str(tmp_path / "missing.yaml"), str(tmp_path)).exit_code == 2


def test_broken_hub_config_is_a_tool_error(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text()}, config="policy:\n  retries: many\n")
    result = run_cli("check", str(cards))
    assert result.exit_code == 2
    assert "hub.yaml:2:12" in result.output and "config error" in result.output


def test_a_hub_config_error_under_a_key_with_a_slash_is_located(tmp_path: Path) -> None:
    """A repository named by its URL is a key with '/' in it: the error points at it (it said 1:1)."""
    config = "golden:\n  repositories:\n    https://gitcode.com/a/b:\n      commit: 42\n"
    cards = write_hub(tmp_path, {"u/m.md": card_text()}, config=config)
    result = run_cli("check", str(cards))
    assert result.exit_code == 2 and "hub.yaml:4:15" in result.output, result.output


def test_hub_config_extends_vocabularies(tmp_path: Path) -> None:
    config = "schema:\n  extra-module-types: [robotics]\n  extra-file-formats: [tflite]\n"
    cards = write_hub(tmp_path, {"u/m.md": card_text(**{"module-type": "robotics-grasping"})}, config=config)
    assert check_json(str(cards))[0] == 0
    write_hub(tmp_path, {}, config="name: plain\n")
    assert check_json(str(cards))[0] == 1


def test_card_size_limit_is_configurable(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text(extra="evaluation: {top1: 1}\n" + "#" * 5000 + "\n")},
                      config="limits:\n  max-card-bytes: 4096\n")
    code, doc = check_json(str(cards))
    assert code == 1 and [d["code"] for d in doc["diagnostics"]] == ["HUB001"]


def test_twin_checked_alone_is_compared_with_its_english_card(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text(), "u/m_cn.md": card_text(author="B")})
    code, doc = check_json(str(cards / "u" / "m_cn.md"))
    assert code == 1 and [d["code"] for d in doc["diagnostics"]] == ["HUB301"]


def test_schema_command(tmp_path: Path) -> None:
    path = Path(run_cli("schema").output.strip())
    assert path.name == "hubtool.card.schema.json" and path.is_file()  # the default profile's
    printed = json.loads(run_cli("schema", "--print").output)
    assert printed["$id"].startswith("urn:hubtool:schema:model-card")
    assert run_cli("schema", "--name", "nope").exit_code == 2


def _run_hubtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = ("import sys, runpy; from hubtool.cli import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n"
            "    heavy = sorted(m for m in ('requests', 'numpy', 'PIL', 'rich.progress', 'urllib3', 'shutil',"
            " 'dataclasses', 'inspect', 'argparse', 'locale') if m in sys.modules)\n"
            "    print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n    raise\n")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=60)


def test_check_path_imports_nothing_heavy() -> None:
    proc = _run_hubtool("check", "cards/hubtool", cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "HEAVY=\n" in proc.stderr


def test_no_traceback_on_unreadable_card(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text()})
    (cards / "u" / "loop.md").symlink_to("loop.md")  # unreadable even for root: ELOOP
    proc = _run_hubtool("check", str(cards), cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1
    assert "loop.md:0:0: HUB001" not in proc.stdout and "u/loop.md: HUB001 error: cannot read the card" in proc.stdout
    assert "2 cards checked: 1 error" in proc.stdout


def test_hostile_cards_get_diagnostics_not_tracebacks(tmp_path: Path) -> None:
    """Keys that look like numbers, integers of thousands of digits, broken IPv6 brackets: each is a
    finding at its line, in one valid JSON document, from a real process; the rest of the hub is
    still checked (a pre-commit run reads every card for the cross-card rules)."""
    base = card_text()
    cards = write_hub(tmp_path, {
        "u/keys.md": base.replace("summary: s", 'summary: s\n0: x\n"1": y\n"²": 1\nevaluation:\n  "٣": 2'),
        "u/huge.md": card_text(**{"model-name": "huge", "accuracy": "9" * 5000}),
        "u/ipv6.md": card_text(**{"model-name": "ipv6"}, link="https://[::1"),
        "u/ipv6b.md": card_text(**{"model-name": "ipv6b"}, link="http://[zz]/a"),
    })
    proc = subprocess.run([str(Path(sys.executable).with_name("hubtool")), "check", "--format", "json",
                           str(cards / "u" / "keys.md")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr  # warnings only: unknown keys
    found = {(d["code"], d["line"]) for d in json.loads(proc.stdout)["diagnostics"]}
    assert found == {("HUB205", 19), ("HUB205", 20), ("HUB205", 21)}
    code, doc = check_json(str(cards))
    by_file = {(Path(d["path"]).name, d["code"]) for d in doc["diagnostics"]}
    assert code == 1 and {("huge.md", "HUB111"), ("ipv6.md", "HUB401"), ("ipv6b.md", "HUB401")} <= by_file


def test_a_bug_is_exit_2_with_the_traceback_in_a_log(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text()})
    crash = ("import sys, hubtool.cards.checkrun as run\n"
             "def boom(*a, **k): raise RuntimeError('simulated bug')\n"
             "run.check_paths = boom\n"
             "from hubtool.cli import main\n"
             "sys.argv = ['hubtool', 'check', sys.argv[1]]\n"
             "main()\n")
    proc = subprocess.run([sys.executable, "-c", crash, str(cards)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    first, second = proc.stderr.strip().splitlines()
    assert first == "hubtool: internal error: RuntimeError: simulated bug"
    log = Path(second.split("the traceback is in ")[1].split(";")[0])
    assert log.is_file() and "simulated bug" in log.read_text() and "Traceback" in log.read_text()
    assert log.is_relative_to(os.environ["HUBTOOL_HOME"])


def test_control_characters_from_a_card_reach_the_terminal_inert(tmp_path: Path) -> None:
    """An escape sequence, a carriage return or a newline in a card's value or file name would clear the screen,
    retitle the window or forge another finding's line, and a bidi control would show the line's text in another
    order: every report line shows them as escapes."""
    hostile = "x\x1b[2J\x1b]0;owned\x07\r\ncards/u/other.md:1:1: HUB000 error: forged\x9b\u202edetsorf\u2066"
    cards = write_hub(tmp_path, {"u/m.md": card_text(license=json.dumps(hostile)),
                                 "u/n\x1b[1m.md": card_text(**{"model-name": "n", "license": "'x\x85y'"})})
    for args in ([], ["--select", "HUB309"], ["--format", "github"]):
        proc = subprocess.run([sys.executable, "-c", "from hubtool.cli import main; main()", "check", *args,
                               str(cards)], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                              env={**os.environ, "NO_COLOR": "1"})
        shown = proc.stdout + proc.stderr
        assert proc.returncode == 1 and "HUB309" in shown, shown
        if "--format" in args:  # an annotation's file stays exact (for GitHub to find it): its message is shown
            shown = "\n".join(line.split("::", 2)[-1] for line in shown.splitlines())
        assert not any(c in shown for c in "\x1b\x07\r\x9b\x85\u202e\u2066"), repr(shown)
        assert "\\u202edetsorf" in shown  # a bidi control shown as its escape: the text keeps its own order
        assert "forged" not in [line.split(": ", 2)[-1] for line in shown.splitlines()]
        assert not any(line.startswith("cards/u/other.md") for line in shown.splitlines())


def test_an_error_message_naming_a_hostile_path_is_inert(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    proc = _run_hubtool("check", "--config", "hub\x1b[2J\r.yaml", "cards", cwd=tmp_path)
    assert proc.returncode == 2 and "\x1b" not in proc.stderr and "\r" not in proc.stderr, repr(proc.stderr)
    assert "hub\\x1b[2J\\x0d.yaml" in proc.stderr
