"""What a hub can tune: severities per code and path, --select/--ignore/--exit-zero, inline
suppressions, the baseline; and profiles (extends:)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import card_text, check_json, run_cli, write_hub

LOSSY = {"model-version": "1.10"}  # HUB110, a warning


def codes_of(doc: dict) -> list[str]:  # type: ignore[type-arg]
    return sorted(d["code"] for d in doc["diagnostics"] if not d["baselined"])


def test_rules_set_a_code_by_code_or_name(tmp_path: Path) -> None:
    card = card_text(**LOSSY, **{"used-for": "x"})  # HUB110 warning and HUB203 error
    cards = write_hub(tmp_path, {"u/m.md": card}, config="name: t\nrules:\n  HUB110: error\n  not-allowed-value: off\n")
    code, doc = check_json(str(cards))
    assert code == 1 and [(d["code"], d["severity"]) for d in doc["diagnostics"]] == [("HUB110", "error")]
    write_hub(tmp_path, {}, config="name: t\nrules:\n  HUB1: info\n")  # a prefix: every HUB1xx
    assert [(d["code"], d["severity"]) for d in check_json(str(cards))[1]["diagnostics"]][0] == ("HUB110", "info")


def test_per_path_globs_later_wins(tmp_path: Path) -> None:
    config = ('name: t\nper-path:\n  "old/**": {HUB110: off}\n  "old/keep/*.md": {HUB110: error}\n')
    cards = write_hub(tmp_path, {"old/a/m.md": card_text(**LOSSY), "old/keep/n.md": card_text(**LOSSY,
                                 **{"model-name": "n"}), "new/o.md": card_text(**LOSSY, **{"model-name": "o"})},
                      config=config)
    _, doc = check_json(str(cards))
    found = {(Path(d["path"]).parent.name, d["severity"]) for d in doc["diagnostics"]}
    assert found == {("keep", "error"), ("new", "warning")}


def test_unknown_rule_names_are_config_errors(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text()}, config="name: t\nrules:\n  no-such-rule: off\n")
    result = run_cli("check", str(cards))
    assert result.exit_code == 2 and "'no-such-rule' is neither a diagnostic code nor a rule name" in result.output


def test_select_ignore_exit_zero(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/m.md": card_text(**LOSSY, **{"used-for": "x", "train-backend": "tpu"})})
    assert codes_of(check_json("--select", "HUB2", str(cards))[1]) == ["HUB203", "HUB203"]
    assert codes_of(check_json("--ignore", "HUB203,lossy-number", str(cards))[1]) == []
    assert codes_of(check_json("--select", "not-allowed-value", "--ignore", "HUB203", str(cards))[1]) == []
    assert run_cli("check", "--exit-zero", str(cards)).exit_code == 0
    assert run_cli("check", "--select", "nonsense", str(cards)).exit_code == 2


def test_line_and_file_suppressions_and_unused_ones(tmp_path: Path) -> None:
    line = card_text(**{"model-version": "1.10  # hubtool: ignore[HUB110]"})
    whole = card_text(**{"model-name": "w", "used-for": "x", "train-backend": "tpu"},
                      extra="# hubtool: ignore-file[not-allowed-value]\n")
    stale = card_text(**{"model-name": "s", "author": "A  # hubtool: ignore[HUB204]"})
    other_line = card_text(**{"model-name": "o", "model-version": "1.10", "author": "A  # hubtool: ignore[HUB110]"})
    cards = write_hub(tmp_path, {"u/line.md": line, "u/whole.md": whole, "u/stale.md": stale, "u/other.md": other_line})
    code, doc = check_json(str(cards))
    found = sorted((Path(d["path"]).stem, d["code"], d["severity"]) for d in doc["diagnostics"])
    assert found == [("other", "HUB005", "info"), ("other", "HUB110", "warning"), ("stale", "HUB005", "info")]
    assert code == 0 and doc["summary"]["infos"] == 2


def test_a_line_of_unclosed_suppressions_is_read_in_one_pass(tmp_path: Path) -> None:
    """`# hubtool: ignore[` 40,000 times on a line, never closed (the comment pattern was quadratic on it: an
    hour for a card this size), then one that is: that one counts."""
    comment = "# hubtool: ignore[" * 40_000 + " # hubtool: ignore[HUB110]"
    cards = write_hub(tmp_path, {"u/m.md": card_text(**{"model-version": f"1.10  {comment}"})},
                      config="name: t\npolicy:\n  allowed-hosts: [download.mindspore.cn]\nlimits:\n"
                             "  max-card-bytes: 2000000\n")
    code, doc = check_json(str(cards))
    assert code == 0 and doc["diagnostics"] == [], doc["diagnostics"]


def test_a_suppression_covers_cross_card_findings_too(tmp_path: Path) -> None:
    a = card_text(**{"model-name": "a"})
    b = card_text(**{"model-name": "a  # hubtool: ignore[duplicate-identity]"})
    cards = write_hub(tmp_path, {"u/a.md": a, "v/b.md": b})
    code, doc = check_json(str(cards))
    assert code == 0 and doc["diagnostics"] == []


def test_baseline_write_then_check_then_a_new_defect(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/a.md": card_text(**{"model-name": "a", "used-for": "x"}),
                                 "u/b.md": card_text(**{"model-name": "b", **LOSSY})})
    baseline = tmp_path / "baseline.json"
    assert run_cli("check", str(cards)).exit_code == 1
    written = run_cli("check", "--write-baseline", str(baseline), str(cards))
    assert written.exit_code == 0 and "2 baselined" in written.output
    entries = json.loads(baseline.read_text())["findings"]
    assert {(e["path"], e["code"], e["pointer"]) for e in entries} == {
        ("cards/u/a.md", "HUB203", "/used-for"), ("cards/u/b.md", "HUB110", "/model-version")}
    code, doc = check_json("--baseline", str(baseline), str(cards))
    assert code == 0 and doc["summary"]["baselined"] == 2 and all(d["baselined"] for d in doc["diagnostics"])
    # editing another line keeps the entry (it is keyed by the value, not the line)
    card = cards / "u" / "a.md"
    card.write_text(card.read_text().replace("---\n", "---\n# the metadata, moved down three lines\n\n\n", 1))
    assert check_json("--baseline", str(baseline), str(cards))[0] == 0
    # one new defect fails, with exactly that finding
    card.write_text(card.read_text().replace("train-backend: gpu", "train-backend: tpu"))
    code, doc = check_json("--baseline", str(baseline), str(cards))
    assert code == 1 and [(d["code"], d["pointer"]) for d in doc["diagnostics"] if not d["baselined"]] == [
        ("HUB203", "/train-backend")]


def test_stale_entries_are_reported_and_dropped(tmp_path: Path) -> None:
    cards = write_hub(tmp_path, {"u/a.md": card_text(**{"used-for": "x"})}, config="name: t\nbaseline: b.json\n")
    assert run_cli("check", "--write-baseline", str(tmp_path / "b.json"), str(cards)).exit_code == 0
    card = cards / "u" / "a.md"
    card.write_text(card.read_text().replace("used-for: x", "used-for: inference"))  # fixed
    code, doc = check_json(str(cards))  # the hub.yaml's baseline: is used by default
    assert code == 0 and [(d["code"], d["severity"]) for d in doc["diagnostics"]] == [("HUB006", "info")]
    run_cli("check", "--write-baseline", str(tmp_path / "b.json"), str(cards))
    assert json.loads((tmp_path / "b.json").read_text())["findings"] == []
    assert check_json(str(cards))[1]["diagnostics"] == []


@pytest.mark.parametrize("text", ["{not json", "[" * 100_000 + "]" * 100_000, '{"format": 1, "findings": [[[]]]}'])
def test_a_broken_baseline_is_a_clear_error(tmp_path: Path, text: str) -> None:
    cards = write_hub(tmp_path, {"u/a.md": card_text()})
    (tmp_path / "b.json").write_text(text)  # not JSON; nested past the decoder's recursion; not a baseline
    result = run_cli("check", "--baseline", str(tmp_path / "b.json"), str(cards))
    assert result.exit_code == 2 and "baseline" in result.output and "internal error" not in result.output


def test_profiles_extend_and_refuse_what_they_do_not_know(tmp_path: Path) -> None:
    bare = card_text(**{"module-type": "cv"})
    cards = write_hub(tmp_path, {"u/m.md": bare}, config="extends: mindspore-hub\nname: t\n")
    assert "HUB204" not in codes_of(check_json(str(cards))[1])  # a bare base is MindSpore Hub practice
    write_hub(tmp_path, {}, config="name: t\n")  # no extends: hubtool's stricter dialect
    assert "HUB204" in codes_of(check_json(str(cards))[1])
    write_hub(tmp_path, {}, config="extends: no-such-profile\n")
    result = run_cli("check", str(cards))
    assert result.exit_code == 2 and "unknown profile 'no-such-profile'" in result.output


def test_schema_and_rules_commands_follow_the_profile(tmp_path: Path) -> None:
    printed = json.loads(run_cli("schema", "--profile", "mindspore-hub", "--print").output)
    assert printed["$id"].endswith(":mindspore-hub") and "input-shape" not in printed["required"]
    assert Path(run_cli("schema", "--profile", "mindspore-hub").output.strip()).name == \
        "mindspore-hub.card.schema.json"
    write_hub(tmp_path, {}, config="extends: mindspore-hub\ncard:\n  required: [model-name]\n")
    own = Path(run_cli("schema", "--config", str(tmp_path / "hub" / "hub.yaml")).output.strip())
    assert json.loads(own.read_text())["required"] == ["model-name"]  # the hub's own, written to the cache
    listed = json.loads(run_cli("rules", "--format", "json", "--config", str(tmp_path / "hub" / "hub.yaml")).output)
    levels = {r["code"]: r["severity"] for r in listed["rules"]}
    assert listed["profile"] == "mindspore-hub" and levels["HUB303"] == "off" and levels["HUB311"] == "warning"


@pytest.mark.parametrize(("setting", "value"), [
    ("policy:\n  read-timeout", "1.0e+308"),  # a socket's timeout cannot hold it: OverflowError mid-download
    ("policy:\n  connect-timeout", "86400.5"), ("policy:\n  asset-deadline", "1.0e+300"),
    ("limits:\n  max-card-bytes", str(10**30)), ("policy:\n  max-asset-bytes", str(2**63)),
])
def test_a_setting_past_what_the_machine_can_do_is_a_config_error(tmp_path: Path, setting: str, value: str) -> None:
    cards = write_hub(tmp_path, {"u/a.md": card_text()}, config=f"name: t\n{setting}: {value}\n")
    result = run_cli("check", str(cards))
    assert result.exit_code == 2 and "hub.yaml:3:" in result.output and "maximum" in result.output, result.output
