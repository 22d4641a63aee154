"""The twin reader (`key：value` lines) on flow values: read as YAML, never expanded."""

from __future__ import annotations

from pathlib import Path

from hubtool.cards.twins import read_twin
from hubtool.config import profile_config

SETTINGS = profile_config("mindspore-hub", Path(".")).card


def _nested_aliases(levels: int) -> str:
    """One line whose aliases, expanded, hold 9**levels items (a 'billion laughs' in a flow value)."""
    names = [chr(ord("a") + i) for i in range(levels)]
    parts = ["&a [" + ",".join(["1"] * 9) + "]"]
    parts += [f"&{name} [" + ",".join([f"*{prev}"] * 9) + "]" for prev, name in zip(names, names[1:], strict=False)]
    return "[" + ", ".join(parts) + "]"


def test_a_flow_list_is_read_as_a_list() -> None:
    view = read_twin("输入形状：[1, 32, 32, 3]\n更新时间：[2020-01-08]", 2, SETTINGS)
    assert view.metadata["input-shape"] == [1, 32, 32, 3]
    assert view.metadata["update-time"] == ["2020-01-08"]  # a date stays text, as in every card


def test_nested_aliases_are_kept_as_text_not_expanded() -> None:
    # 43 million items once expanded: PyYAML's safe_load read it as a list whose comparison took 30 s and 3 GiB
    value = _nested_aliases(8)
    view = read_twin(f"输入形状：{value}", 2, SETTINGS)
    assert view.metadata["input-shape"] == value


def test_a_broken_flow_value_is_kept_as_text() -> None:
    view = read_twin("输入形状：[1, 2\n准确率：{top1: .9, top1: .8}", 2, SETTINGS)
    assert view.metadata["input-shape"] == "[1, 2"
    assert view.metadata["accuracy"] == "{top1: .9, top1: .8}"  # a duplicate key: not read as one value


def test_a_long_line_without_a_colon_is_passed_over_in_one_pass() -> None:
    """A megabyte of spaces after a word: the entry pattern this replaced took an hour on it (1.2 s at 16,000)."""
    view = read_twin("模型名称：m\n" + "a" + " " * (1 << 20) + "b\n" + "- " * (1 << 19) + "x", 2, SETTINGS)
    assert view.metadata == {"model-name": "m"}
