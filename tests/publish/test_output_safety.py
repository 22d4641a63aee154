"""Outputs other programs parse cannot be abused: GitHub workflow commands (check, fetch, golden,
publish) and JUnit XML.

A file name or message may carry anything (a newline and `::error::`, commas, control
characters, lone surrogates from undecodable file names): a GitHub annotation stays one
command whose file decodes back to the file and whose message shows control characters as
escapes, and every JUnit document parses.
"""

from __future__ import annotations

import xml.dom.minidom

from hypothesis import given, settings
from hypothesis import strategies as st

from hubtool.assets.report import render_assets
from hubtool.cards.report import github_command, xml_attr, xml_text
from hubtool.diagnostics import printable_lines
from hubtool.golden.report import render_github as golden_github
from hubtool.golden.report import render_junit as golden_junit
from hubtool.publish.report import render_annotations, render_junit
from hubtool.publish.runs import CardRun, PublishResult, Step

ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=40) | st.sampled_from(
    ["a\n::error::pwned", "x,line=1::y", "%0A", "\r\n", "\x00\x1b[31m", "\ud800", "\ufffe", "a::b"])


def _unescape(value: str) -> str:
    for code, char in (("%2C", ","), ("%3A", ":"), ("%0A", "\n"), ("%0D", "\r"), ("%25", "%")):
        value = value.replace(code, char)
    return value


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """What GitHub's runner reads from one line: `::level props::message`."""
    assert line.startswith("::") and "\n" not in line and "\r" not in line
    head, _, message = line[2:].partition("::")
    level, _, props = head.partition(" ")
    pairs = dict(p.split("=", 1) for p in props.split(",")) if props else {}
    return level, {k: _unescape(v) for k, v in pairs.items()}, _unescape(message)


@settings(max_examples=300, deadline=None)
@given(file=ANY_TEXT, title=ANY_TEXT, message=ANY_TEXT)
def test_a_github_command_stays_one_command(file: str, title: str, message: str) -> None:
    level, props, said = parse_command(github_command("error", message, file=file, line=3, col=4, title=title))
    shown = {"file": file, "line": "3", "col": "4", "title": printable_lines(title)}  # the file exact, to be found
    assert (level, props, said) == ("error", shown, printable_lines(message))
    assert not any(c in "\x1b\x07\r\x9b" for c in said + props["title"])  # inert in the log viewer


def _xml_allowed(text: str) -> str:
    return "".join(c for c in text if c in "\t\n\r" or "\x20" <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd"
                   or c >= "\U00010000")


@settings(max_examples=300, deadline=None)
@given(attr=ANY_TEXT, text=ANY_TEXT)
def test_xml_attributes_and_text_always_parse(attr: str, text: str) -> None:
    doc = xml.dom.minidom.parseString(f"<a b={xml_attr(attr)}>{xml_text(text)}</a>".encode("utf-8", "surrogatepass"))
    assert doc.documentElement.getAttribute("b") == _xml_allowed(attr)
    # XML parsers turn a literal CR (and CRLF) in text into LF: that is the text a reader gets
    expected = _xml_allowed(text).replace("\r\n", "\n").replace("\r", "\n")
    assert "".join(n.data for n in doc.documentElement.childNodes) == expected


@settings(max_examples=100, deadline=None)
@given(display=ANY_TEXT, reason=ANY_TEXT)
def test_publish_reports_of_hostile_cards(display: str, reason: str) -> None:
    run = CardRun(file="c.md", display=display, card="c.md")
    run.held_because, run.steps = reason, {"check": Step("failed", reason)}
    result = PublishResult(runs=[run], generation=None, counters={})
    [line] = render_annotations(result).split("\n")
    assert parse_command(line) == ("error", {"file": display, "title": "held back"}, printable_lines(reason))
    xml.dom.minidom.parseString(render_junit(result).encode("utf-8", "surrogatepass"))


@settings(max_examples=100, deadline=None)
@given(card=ANY_TEXT, message=ANY_TEXT)
def test_golden_junit_of_hostile_cards(card: str, message: str) -> None:
    from hubtool.golden.inference import GoldenResult

    report = golden_junit([(card, GoldenResult("failed", message)), (card, GoldenResult("skipped", message))])
    doc = xml.dom.minidom.parseString(report.encode("utf-8", "surrogatepass"))
    cases = doc.getElementsByTagName("testcase")
    got = [(c.getAttribute("classname"), c.getAttribute("name")) for c in cases]
    assert got == [(_xml_allowed(card), "golden")] * 2


@settings(max_examples=100, deadline=None)
@given(card=ANY_TEXT, message=ANY_TEXT)
def test_golden_github_of_hostile_cards(card: str, message: str) -> None:
    from hubtool.golden.inference import GoldenResult

    lines = golden_github([(card, GoldenResult("failed", message)), (card, GoldenResult("offline", message)),
                           (card, GoldenResult("passed", message))]).split("\n")
    assert [parse_command(line)[0] for line in lines] == ["error", "warning", "notice"]
    assert parse_command(lines[0]) == ("error", {"file": card, "title": "golden failed"}, printable_lines(message))


@settings(max_examples=100, deadline=None)
@given(card=ANY_TEXT, link=ANY_TEXT, message=ANY_TEXT)
def test_fetch_github_of_hostile_cards(card: str, link: str, message: str) -> None:
    from hubtool.assets.mirror import AssetResult, AssetTask
    from hubtool.errors import TransferError

    failed = AssetResult(AssetTask(card, 0, link, "0" * 64, "ckpt"), None, TransferError(message))
    lines = render_assets([failed], "github").split("\n")
    assert parse_command(lines[0]) == ("error", {"file": card, "title": "asset network"},
                                       f"asset 0: [network] {printable_lines(message)}")
    assert parse_command(lines[1])[0] == "notice" and len(lines) == 2


def test_check_golden_and_publish_share_one_junit_layout() -> None:
    """classname = the card's path, name = the step, testsuite "hubtool <command>"; failures and skips alike."""
    from hubtool.cards.report import render_junit as check_junit
    from hubtool.cards.validate import CheckResult
    from hubtool.diagnostics import error
    from hubtool.golden.inference import GoldenResult

    diag = error("cards/u/a.md", 3, 4, "HUB203", "bad")
    check = CheckResult(files=["cards/u/a.md"], diagnostics=[diag])
    golden = golden_junit([("cards/u/a.md", GoldenResult("failed", "wrong")),
                           ("cards/u/b.md", GoldenResult("offline", "not here"))])
    run = CardRun(file="a.md", display="cards/u/a.md", card="cards/u/a.md")
    run.steps = {"check": Step("passed"), "fetch": Step("failed", "HTTP 404")}
    publish = render_junit(PublishResult(runs=[run], generation=None, counters={}))
    found = {}
    for suite, text in (("check", check_junit(check)), ("golden", golden), ("publish", publish)):
        doc = xml.dom.minidom.parseString(text.encode())
        assert doc.documentElement.getAttribute("name") == f"hubtool {suite}"
        found[suite] = [(c.getAttribute("classname"), c.getAttribute("name"),
                         [n.tagName for n in c.childNodes if n.nodeType == n.ELEMENT_NODE])
                        for c in doc.getElementsByTagName("testcase")]
    assert found == {"check": [("cards/u/a.md", "check", ["failure"])],
                     "golden": [("cards/u/a.md", "golden", ["failure"]), ("cards/u/b.md", "golden", ["skipped"])],
                     "publish": [("cards/u/a.md", "check", []), ("cards/u/a.md", "fetch", ["failure"])]}
