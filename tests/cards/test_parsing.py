"""Front matter scanner and YAML layer: dialect, positions, hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hubtool import textdecode, yamlsource
from hubtool.cards import frontmatter
from hubtool.cards.card import load_card
from hubtool.diagnostics import Diagnostic


def split(text: str) -> frontmatter.FrontMatter:
    result = frontmatter.split(text, "c.md")
    assert isinstance(result, frontmatter.FrontMatter), result
    return result


def test_title_then_fence_keeps_file_lines() -> None:
    fm = split("# My Model\n\n\n---\na: 1\nb: 2\n---\nbody\n---\nmore\n")
    assert fm.title == "My Model"
    assert (fm.open_line, fm.yaml_line, fm.close_line, fm.body_line) == (4, 5, 7, 8)
    assert fm.yaml_text == "a: 1\nb: 2\n"
    assert fm.body == "body\n---\nmore\n"  # a later '---' is a horizontal rule in the body


def test_fence_at_top_and_empty_block() -> None:
    fm = split("---\n---\n")
    assert (fm.title, fm.yaml_text, fm.open_line, fm.close_line) == (None, "", 1, 2)


def test_only_first_two_fences_count_even_in_code_blocks() -> None:
    fm = split("---\nk: v\n---\n```\n---\nx: y\n---\n```\n")
    assert fm.yaml_text == "k: v\n"


def test_fence_with_trailing_spaces_counts_but_indented_does_not() -> None:
    fm = split("---  \nk: v\n  ---\nz: w\n---\n")
    assert fm.yaml_text == "k: v\n  ---\nz: w\n"


def test_crlf_and_bom_keep_lines_and_columns() -> None:
    data = "\ufeff# T\r\n\r\n---\r\nname: x\r\nother:  y\r\n---\r\n".encode()
    text = textdecode.decode(data, "c.md")
    assert isinstance(text, str) and "\r" not in text and not text.startswith("\ufeff")
    fm = split(text)
    doc = yamlsource.parse(fm.yaml_text, path="c.md", line_offset=fm.yaml_line)
    assert doc.data == {"name": "x", "other": "y"}
    assert doc.values["/other"] == yamlsource.Pos(5, 9)


def test_non_utf8_reports_line_and_column() -> None:
    diag = textdecode.decode(b"---\na: 1\nb: caf\xe9\n---\n", "c.md")
    assert isinstance(diag, Diagnostic)
    assert (diag.code, diag.line, diag.col) == ("HUB004", 3, 7)


@pytest.mark.parametrize("text", ["\n" * 2_000_000, "---" + "\n" * 200_000, "# t\n" + " \n" * 500_000,
                                  "---\n" + "a: b\n" * 200_000])
def test_scanner_is_linear(text: str) -> None:
    start = time.perf_counter()
    result = frontmatter.split(text, "c.md")
    assert time.perf_counter() - start < 0.5  # generous: linear scans take a few ms here
    assert isinstance(result, Diagnostic)
    assert result.code in ("HUB002", "HUB003")


def test_positions_are_file_positions() -> None:
    doc = yamlsource.parse("a: 1\nlist:\n  - k: v\n    j:  w\n", path="c.md", line_offset=10)
    assert doc.keys["/list/0/j"] == yamlsource.Pos(13, 5)
    assert doc.values["/list/0/j"] == yamlsource.Pos(13, 9)


def test_duplicate_keys_at_depth_name_both_lines() -> None:
    doc = yamlsource.parse("a:\n  b:\n    c: 1\n    c: 2\n", path="c.md", line_offset=1)
    assert [(d.code, d.line) for d in doc.diagnostics] == [("HUB102", 4)]
    assert "line 3" in doc.diagnostics[0].message and "line 4" in doc.diagnostics[0].message


def test_billion_laughs_costs_nothing() -> None:
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for name, prev in zip("bcdefghi", "abcdefgh", strict=False):
        bomb += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    start = time.perf_counter()
    doc = yamlsource.parse(bomb, path="c.md", line_offset=2)
    assert time.perf_counter() - start < 0.2
    assert [d.code for d in doc.diagnostics] == ["HUB103"]


def test_scalars_are_kept_as_written() -> None:
    doc = yamlsource.parse("v: 1.10\nd: 2020-11-17\nq: '1.10'\nb: yes\n", path="c.md", line_offset=1)
    assert doc.data == {"v": 1.1, "d": "2020-11-17", "q": "1.10", "b": True}
    assert doc.raw["/v"].text == "1.10" and doc.raw["/b"].text == "yes"
    assert "/q" not in doc.raw


def test_card_keeps_strings_where_schema_wants_them(tmp_path: Path) -> None:
    path = tmp_path / "c.md"
    path.write_text("---\nmodel-version: 1.10\naccuracy: 0.5\nasset-link: <https://x/y>\n---\n")
    loaded = load_card(path, display="c.md", max_bytes=1 << 20,
                       wants_string=lambda parts: parts[-1] in ("model-version", "asset-link"))
    assert loaded.card is not None
    assert loaded.card.metadata == {"model-version": "1.10", "accuracy": 0.5, "asset-link": "https://x/y"}
    assert loaded.card.value_pos("/asset-link") == yamlsource.Pos(4, 14)  # after the '<'
    assert [(d.code, d.severity.value) for d in loaded.diagnostics] == [("HUB110", "warning")]


def test_oversized_card_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_bytes(b"---\n" + b"a" * (2 << 20) + b"\n---\n")
    start = time.perf_counter()
    loaded = load_card(path, display="big.md", max_bytes=1 << 20, wants_string=lambda parts: False)
    assert time.perf_counter() - start < 0.1
    assert loaded.card is None and [d.code for d in loaded.diagnostics] == ["HUB001"]
