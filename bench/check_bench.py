"""Benchmark `hubtool check` against a bare CSafeLoader parse of the same YAML blocks.

Three cases, each timed as whole processes (interpreter start-up included), alternating
with its baseline in the same run; median and min-max of N rounds:

- a synthetic 3,000-card hub, whole hub;
- the pre-commit case: one staged card of that hub, the cross-card rules applied against
  every card of the hub from the warm facts cache (and once cold, with no cache);
- the real MindSpore Hub sample (../shared/hub-sample) with examples/mindspore-hub/hub.yaml, 1, 4, 10
  (the whole hub's size) and 16 times over; at 10, also the floor of hubtool's parse (read, split, parse
  with positions, nothing checked), that parse plus the schema check alone (one CPU, no rules, no report),
  and the check held to one CPU, which show where the CPU goes.

Prints figures; it asserts nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synthetic_hub import generate  # noqa: E402
from whole import HUBTOOL as HUBTOOL_BIN  # noqa: E402
from whole import REPO, alternate, arguments, compile_sources, report  # noqa: E402

from hubtool.filestatus import SETTLE_NS  # noqa: E402

SAMPLE = REPO.parent / "shared" / "hub-sample" / "cards"
CONFIG = REPO / "examples" / "mindspore-hub" / "hub.yaml"
CARDS = int(os.environ.get("BENCH_CARDS", "3000"))
HUBTOOL = [HUBTOOL_BIN]

BASELINE = r"""
import sys, yaml
from pathlib import Path
root = Path(sys.argv[1])
for p in sorted(root.rglob('*.md')) if root.is_dir() else [root]:
    text = p.read_text(encoding='utf-8', errors='replace')
    start = text.find('---\n') + 4
    end = text.find('\n---', start)
    try:
        yaml.load(text[start:end], Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        pass
"""

# the least hubtool does for a file:line:col finding: read, decode, split and parse every block with positions
PARSE_FLOOR = r"""
import sys
from pathlib import Path
from hubtool import textdecode, yamlsource
from hubtool.cards import frontmatter
root = Path(sys.argv[1])
for p in sorted(root.rglob('*.md')):
    text = textdecode.decode(p.read_bytes(), str(p))
    front = frontmatter.split(text, str(p)) if isinstance(text, str) else None
    if isinstance(front, frontmatter.FrontMatter):
        yamlsource.parse(front.yaml_text, path=str(p), line_offset=front.yaml_line)
"""

# and the least a schema check adds to it: the hub's dialect read (strings the schema types as strings kept as
# written), validity by fastjsonschema, and a failing card's errors listed by jsonschema; no rules, no report
SCHEMA_FLOOR = r"""
import sys
from pathlib import Path
from hubtool.cards.listing import discover
from hubtool.cards.validate import CardChecker
from hubtool.cli.common import hub_config
root = Path(sys.argv[1])
checker = CardChecker(hub_config(Path(sys.argv[2]), [root]))
for p in discover([root]):
    card = checker.load(p).card
    if card is not None and not checker.validator.is_valid(card.metadata):
        list(checker.validator.iter_errors(card.metadata))
"""


def import_time(cwd: Path) -> str:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import hubtool.cli, hubtool.cards.validate"],
                          cwd=cwd, capture_output=True, text=True, check=True)
    rows = [line.split("|") for line in proc.stderr.splitlines() if line.startswith("import time:")]
    total = sum(int(r[0].split(":")[1]) for r in rows[1:] if r[0].split(":")[1].strip().isdigit())
    top = sorted(rows[1:], key=lambda r: -int(r[1]))[:5]
    return f"{total / 1000:.0f} ms self-time total; largest cumulative: " + ", ".join(
        f"{r[2].strip()} {int(r[1]) / 1000:.0f} ms" for r in top)


def sample_copies(root: Path, times: int) -> Path:
    """The real sample `times` over, in folders of its own (duplicate names are findings, as they should be)."""
    out = root / f"sample-x{times}"
    for i in range(times):
        shutil.copytree(SAMPLE, out / f"copy{i}")
    return out


def whole_hub(root: Path, env: dict[str, str], cards: Path, rounds: int) -> None:
    base = "baseline: CSafeLoader parse of every block"
    report(f"synthetic hub, {CARDS} cards (~40 front-matter lines each), whole hub:", alternate({
        base: [sys.executable, "-c", BASELINE, str(cards)],
        "hubtool check --format json": HUBTOOL + ["check", "--format", "json", str(cards)],
    }, rounds, root, env, allowed=(0, 1)), base)


def staged_cards(root: Path, env: dict[str, str], cards: Path) -> tuple[Path, Path]:
    """A card the schema passes and one it fails (only a failure imports jsonschema, to explain it)."""
    # cards as a hub's checkout has them, written well before the cache is: a card written within
    # filestatus.SETTLE_NS of the cache is read again (git's racy entries), which made the first rounds cold
    time.sleep(SETTLE_NS / 1e9)
    out = subprocess.run(HUBTOOL + ["check", "--format", "json", str(cards)], cwd=root, env=env,
                         capture_output=True, text=True, check=False).stdout  # also fills the facts cache
    failing = {str((root / d["path"]).resolve())
               for d in json.loads(out)["diagnostics"] if d["code"].startswith("HUB2")}
    files = sorted(p.resolve() for p in cards.rglob("*.md"))
    middle = files[len(files) // 2:] + files[:len(files) // 2]
    passing = next(p for p in middle if str(p) not in failing)
    return passing, next(p for p in middle if str(p) in failing)


def pre_commit(root: Path, env: dict[str, str], cards: Path, rounds: int) -> None:
    passing, failing = staged_cards(root, env, cards)
    commands = {
        "baseline: python -c 'import yaml'": [sys.executable, "-c", "import yaml"],
        "baseline: CSafeLoader parse of the one block": [sys.executable, "-c", BASELINE, str(passing)],
        "hubtool check STAGED (schema passes)": HUBTOOL + ["check", str(passing)],
        "hubtool check STAGED (schema fails)": HUBTOOL + ["check", str(failing)],
        # the floor of the failing row: explaining a schema failure (every error, with its path) is jsonschema's
        "floor: python -c 'import yaml, jsonschema'": [sys.executable, "-c", "import yaml, jsonschema"],
        "hubtool check CARD of a one-card hub": HUBTOOL + ["check", str(one_card_hub(root))],
    }
    jsonschema_cli = Path(sys.executable).parent / "check-jsonschema"
    if jsonschema_cli.exists():  # another validator on the card's block: schema only, no cross-card rules
        text = passing.read_text(encoding="utf-8")
        block = root / "staged.yaml"
        block.write_text(text.split("---\n", 2)[1], encoding="utf-8")
        commands["check-jsonschema on the block (schema only)"] = [
            str(jsonschema_cli), "--schemafile", str(REPO / "schemas" / "model-card.schema.json"), str(block)]
    report(f"\npre-commit: one staged card, cross-card rules against the {CARDS}-card hub (warm facts cache):",
           alternate(commands, rounds, root, env, allowed=(0, 1)), "baseline: python -c 'import yaml'")

    def no_cache(name: str) -> None:
        shutil.rmtree(root / "home" / "store" / "check", ignore_errors=True)

    no_cache("")
    report("", alternate({"hubtool check STAGED, no facts cache": HUBTOOL + ["check", str(passing)]},
                         3, root, env, after=no_cache, allowed=(0, 1)))


def one_card_hub(root: Path) -> Path:
    """This repository's seed card alone in a hub of its own (no other cards to judge it against)."""
    hub = root / "one-card"
    shutil.copytree(REPO / "hub", hub / "hub", ignore=shutil.ignore_patterns("assets", "golden"))
    (hub / "cards").mkdir()
    card = hub / "cards" / "plain-CNN-resnet50.md"
    shutil.copyfile(REPO / "cards" / "noah-cvlab" / "plain-CNN-resnet50.md", card)
    return card


def real_sample(root: Path, env: dict[str, str], rounds: int) -> None:
    for times in (1, 4, 10, 16):  # x10: 2,970 cards, the size of the whole hub (2,915)
        cards = SAMPLE if times == 1 else sample_copies(root, times)
        count = len(list(cards.rglob("*.md")))
        base = "baseline: CSafeLoader parse of every block"
        check = HUBTOOL + ["check", "--format", "json", "--config", str(CONFIG), str(cards)]
        commands = {base: [sys.executable, "-c", BASELINE, str(cards)], "hubtool check --config mindspore-hub": check}
        if times == 10:  # at the hub's size, where the CPU goes: the parse's floor, and the cost of a second CPU
            commands["floor: hubtool's read, split and positional parse only"] = [
                sys.executable, "-c", PARSE_FLOOR, str(cards)]
            commands["floor: that, plus the hub's dialect and the schema check"] = [
                sys.executable, "-c", SCHEMA_FLOOR, str(cards), str(CONFIG)]
            if shutil.which("taskset"):
                commands["hubtool check on one CPU (taskset -c 0)"] = ["taskset", "-c", "0", *check]
        report(f"\nreal MindSpore Hub sample x{times}, {count} cards, with examples/mindspore-hub/hub.yaml:",
               alternate(commands, rounds if times == 1 else max(3, rounds // 2), root, env, allowed=(0, 1)), base)


def main() -> None:
    args = arguments(__doc__ or "", rounds=7, sections=["whole-hub", "pre-commit", "sample"])
    only = set(args.only or ["whole-hub", "pre-commit", "sample"])
    compile_sources()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {**os.environ, "HUBTOOL_HOME": str(root / "home")}  # the facts cache lives under its store
        cards = generate(root, CARDS)
        print(f"{args.rounds} alternating rounds of whole-process runs; median (min-max), peak RSS median\n")
        if "whole-hub" in only:
            whole_hub(root, env, cards, args.rounds)
        if "pre-commit" in only:
            pre_commit(root, env, cards, args.rounds)
        if "sample" in only and SAMPLE.is_dir():
            real_sample(root, env, args.rounds)
        report("\nbare interpreter start-up:", alternate({"python -c pass": [sys.executable, "-c", "pass"]},
                                                         args.rounds, root, env))
        print(f"\nimport time: {import_time(root)}")


if __name__ == "__main__":
    main()
