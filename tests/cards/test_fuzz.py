"""Property-based: arbitrary bytes and YAML-ish cards never raise; they pass or give diagnostics."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubtool.cards.validate import CardChecker
from hubtool.config import HubConfig
from hubtool.golden.rule import GoldenBlockRule

CONFIG = HubConfig(root=Path("/nonexistent-hub-root"))
CHECKER = CardChecker(CONFIG, extra_rules=[GoldenBlockRule(CONFIG)])  # as `hubtool check` builds it
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

_key = st.sampled_from(["model-name", "model-version", "asset", "asset-sha256", "asset-link", "accuracy",
                        "input-shape", "update-time", "golden", "x", "fine-tunable", "evaluation"])
_scalar = st.one_of(st.text(max_size=12), st.sampled_from(
    ["1.10", "2020-11-17", "<https://a/b>", "&a x", "*a", "!!python/none", "- ", ": ", "[1, 2", "{a: 1}",
     "yes", "~", "0x1F", "'q'", "\"\\u00e9\"", "\t", "|\n  text", "? k"]))
_line = st.builds(lambda indent, k, v: " " * indent + f"{k}: {v}",
                  st.integers(0, 4), _key, _scalar) | st.sampled_from(["- a", "---", "...", "", "# c"])


def _check(path: Path) -> None:
    loaded = CHECKER.load(path)
    if loaded.card is not None:
        CHECKER.check_card(loaded.card)
    for diag in loaded.diagnostics:
        assert diag.code.startswith("HUB") and diag.line >= 0 and diag.col >= 0


@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "c.md"
    path.write_bytes(data)
    _check(path)


@FUZZ
@given(title=st.booleans(), lines=st.lists(_line, max_size=25), crlf=st.booleans(), bom=st.booleans())
def test_yamlish_cards(tmp_path: Path, title: bool, lines: list[str], crlf: bool, bom: bool) -> None:
    text = ("# T\n\n" if title else "") + "---\n" + "\n".join(lines) + "\n---\nbody\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    path = tmp_path / "c.md"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    _check(path)


@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_in_front_matter(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.md"
    path.write_text("---\n" + text + "\n---\n", encoding="utf-8", errors="surrogatepass")
    _check(path)
