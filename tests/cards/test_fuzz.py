"""Property-based: arbitrary bytes and YAML-ish cards never raise; they pass or give diagnostics."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubtool.cards.validate import CardChecker
from hubtool.config import default_config
from hubtool.golden.rule import GoldenBlockRule

CONFIG = default_config(Path("/nonexistent-hub-root"))
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


# Structured hostile metadata: any YAML scalar as a key, numbers of any size, URLs of any shape.
_scalar_key = st.one_of(
    st.integers(), st.integers(min_value=10**4000, max_value=10**5000), st.floats(allow_nan=True), st.booleans(),
    st.none(), st.dates(), st.sampled_from(["0", "00", "²", "١٢", "-1", "1e3", "~", "/", "a/b", "~1", "", " "]),
    st.text(max_size=6))
_number = st.one_of(st.integers(min_value=-(10**6000), max_value=10**6000), st.floats(allow_nan=True),
                    st.sampled_from([".inf", "-.inf", ".nan", "1e999", "0x" + "f" * 5000, "1_000", "0o17"]))
_url = st.one_of(
    st.builds(lambda scheme, host, path: f"{scheme}://{host}{path}",
              st.sampled_from(["https", "http", "ftp", "file", "HTTPS", "", "s3"]),
              st.sampled_from(["download.mindspore.cn", "[::1", "[zz]", "[::1]:99999", "a:b@c", "%00", "",
                               "xn--", "127.0.0.1:-1", "[" + "f" * 80 + "]", "h\u0000st", "ex ample.com"]),
              st.sampled_from(["", "/", "/a.ckpt", "/../../etc", "?x#y", "/%zz"])),
    st.text(max_size=20))
_value = st.recursive(st.one_of(_number, _url, st.text(max_size=10), st.booleans(), st.none()),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_scalar_key, inner, max_size=3),
                      max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.dictionaries(_scalar_key, _value, max_size=5), link=_url, repo=_url, accuracy=_number,
       evaluation=st.dictionaries(_scalar_key, _number, max_size=3))
def test_structured_hostile_metadata(tmp_path: Path, extra: dict[object, object], link: str, repo: str,
                                     accuracy: object, evaluation: dict[object, object]) -> None:
    import json
    import sys
    import xml.dom.minidom

    import yaml

    from hubtool.cards.checkrun import check_paths
    from hubtool.cards.report import render
    from hubtool.cards.validate import run_for

    sys.set_int_max_str_digits(0)  # the generator's own dump of huge ints (the checker runs with the default)
    try:
        meta: dict[object, object] = {"model-name": "m", "model-version": "1.0", "accuracy": accuracy,
                                      "evaluation": evaluation, "repo-link": repo,
                                      "asset": [{"file-format": "ckpt", "asset-link": link, "asset-sha256": "0" * 64}],
                                      **extra}
        text = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    finally:
        sys.set_int_max_str_digits(4300)
    path = tmp_path / "c.md"
    path.write_text("# T\n\n---\n" + text + "---\nbody\n", encoding="utf-8")
    result = check_paths([path], CHECKER, run_for(CONFIG))
    lines = len(path.read_text(encoding="utf-8").splitlines())
    for diag in result.diagnostics:
        assert diag.code.startswith("HUB") and 0 <= diag.line <= lines + 1, diag
    json.loads(render(result, "json"))  # one valid document
    xml.dom.minidom.parseString(render(result, "junit"))  # well-formed XML
    # the runner reads workflow commands line by line (\n): no message may start a line of its own
    assert all(line.startswith("::") for line in render(result, "github").split("\n") if line)


def yaml_flow(value: object) -> str:
    import sys

    import yaml

    sys.set_int_max_str_digits(0)
    try:
        return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**9).strip()
    finally:
        sys.set_int_max_str_digits(4300)


# A `_cn.md` twin in MindSpore Hub's dialect (`key：value` lines): flow values of any shape, hostile ones included.
_twin_key = st.sampled_from(["模型名称", "输入形状", "准确率", "评估", "更新时间", "资源", "x", "-", "  - 文件格式"])
_flow = st.one_of(
    _value.map(yaml_flow),
    st.sampled_from(["[&a [1,1], *a, *a]", "[*a]", "{a: !!python/none}", "[", "{a: 1, a: 2}", "[1, 2", "[!!binary x]",
                     "{? [a]: 1}", "[.inf, .nan]", "[2020-01-08]", "[" * 70 + "]" * 70]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(_twin_key, _flow), max_size=8))
def test_hostile_twins(tmp_path: Path, entries: list[tuple[str, str]]) -> None:
    from hubtool.cards.checkrun import check_paths
    from hubtool.cards.validate import run_for
    from hubtool.config import profile_config

    config = profile_config("mindspore-hub", tmp_path)
    checker = CardChecker(config)
    (tmp_path / "m.md").write_text("---\nmodel-name: m\ninput-shape: [1, 2]\naccuracy: {top1: 0.9}\n---\nbody\n",
                                   encoding="utf-8")
    twin = tmp_path / "m_cn.md"
    twin.write_text("---\n" + "\n".join(f"{k}：{v}" for k, v in entries) + "\n---\n", encoding="utf-8")
    result = check_paths([twin], checker, run_for(config))
    lines = len(twin.read_text(encoding="utf-8").splitlines())
    assert all(d.code.startswith("HUB") and 0 <= d.line <= lines + 1 for d in result.diagnostics), result
