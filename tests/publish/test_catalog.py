"""The published HTML catalog: strict HTML5 on every page, the golden gallery, hostile card bodies kept inert."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import html5lib
import pytest

from helpers import REPO, canary_card, card_text, run_cli, runtime_env

HOSTILE_BODY = ("## Usage\n\n<script>alert('card')</script>\n\n<img src=x onerror=alert(1)>\n\n"
                "[click](javascript:alert(1)) [data](data:text/html,hi) [docs](https://example.org/docs)\n\n"
                "![tracker](https://tracker.example/pixel.png)\n")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hub whose canary passes, a twin that passes with one failed case, a hostile card, a held-back card."""
    runtime_env()
    root = tmp_path_factory.mktemp("hub")
    for part in ("assets", "golden"):
        shutil.copytree(REPO / "hub" / part, root / "hub" / part)
    strict = root / "hub" / "golden" / "one-wrong"
    shutil.copytree(root / "hub" / "golden" / "cifar10-canary", strict)
    spec = strict / "golden.yaml"
    spec.write_text(spec.read_text().replace("{image: cifar10_03_0.png, expect: airplane}",
                                             "{image: cifar10_03_0.png, expect: truck}") + "min-correct: 0.9\n")
    (root / "hub" / "hub.yaml").write_text("name: catalog test hub\n"
                                           "policy:\n  allowed-hosts: [download.mindspore.cn]\n")
    # one user each: cards of one folder may not share an asset (HUB306)
    cards = {
        "a/canary.md": canary_card(**{"model-name": "canary", "user-id": "a"}),
        "b/one-wrong.md": canary_card(golden="golden:\n  set: one-wrong\n", **{"model-name": "one-wrong",
                                                                                "user-id": "b"}),
        "c/hostile.md": canary_card(**{"model-name": "hostile", "user-id": "c", "module-type": "cv-detection",
                                       "train-dataset": "imagenet"}).replace("---\nbody\n", "---\n" + HOSTILE_BODY),
        "d/held.md": canary_card(**{"model-name": "held", "user-id": "d", "used-for": "nonsense"}),
        # offline, its asset is not in the store: published unverified (--allow-unverified)
        "e/remote.md": card_text(**{"model-name": "remote", "user-id": "e"}),
    }
    for name, text in cards.items():
        (root / "cards" / name).parent.mkdir(parents=True)
        (root / "cards" / name).write_text(text)
    result = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"), "--offline",
                     "--allow-unverified", "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"))
    assert result.exit_code == 1, result.output  # the held-back card
    return root / "dist" / "hub"


def page(hub: Path, name: str) -> str:
    return (hub / name).read_text(encoding="utf-8")


def test_every_page_is_strict_html5_and_makes_no_external_request(published: Path) -> None:
    pages = sorted(published.rglob("*.html"))
    assert {p.relative_to(published).as_posix() for p in pages} == {
        "index.html", "run.html", "cards/a/canary@1.0.html", "cards/b/one-wrong@1.0.html", "cards/c/hostile@1.0.html",
        "cards/e/remote@1.0.html"}
    for path in pages:
        html5lib.HTMLParser(strict=True).parse(path.read_bytes())  # raises on any parse error
        text = path.read_text(encoding="utf-8")
        for attr, url in re.findall(r'\b(src|href)="([^"]*)"', text):
            if attr == "src" or url.endswith((".css", ".js")):  # what a browser loads by itself: ours, relative
                assert not re.match(r"[a-z]+:|//", url), f"{path.name} loads {url}"
            if not url.startswith("https://"):  # a link the card's body gives; every other one is ours
                assert (path.parent / url).is_file(), f"{path.name}: {url} leads nowhere"
        assert "default-src 'none'" in text and 'name="viewport"' in text


def test_the_index_lists_exactly_the_published_cards_with_their_facts(published: Path) -> None:
    index = page(published, "index.html")
    rows = re.findall(r"<tr data-module_type=.*?</tr>", index, re.S)
    assert len(rows) == 4 and "held" not in index.split("<tbody>")[1]
    remote = next(r for r in rows if ">remote<" in r)
    assert 'data-status="unverified"' in remote and 'data-formats="ckpt"' in remote
    canary = next(r for r in rows if ">canary<" in r)
    assert 'data-formats="mslite"' in canary and 'data-status="verified"' in canary and "20/20" in canary
    assert 'data-dataset="cifar10"' in canary and "cv-classification" in canary
    assert '<script src="catalog.js"></script>' in index and "<form id=\"filters\" hidden>" in index


def test_a_card_page_shows_its_20_golden_images_with_labels_and_scores(published: Path) -> None:
    text = page(published, "cards/a/canary@1.0.html")
    cases = re.findall(r'<li class="case (passed|failed)" data-image="([^"]+)">.*?<b class="expected">([^<]+)</b>',
                       text, re.S)
    assert len(cases) == 20 and all(status == "passed" for status, _, _ in cases)
    labels = dict((image, label) for _, image, label in cases)
    assert labels["cifar10_00_3.png"] == "cat" and labels["cifar10_03_0.png"] == "airplane"
    assert (published / "images" / "cifar10-canary" / "cifar10_00_3.png").is_file()
    assert text.count('<span class="bar">') >= 60  # the top 3 of each case as bars
    assert "ran: MindSpore Lite 2.0.0" in text


def test_a_failed_case_comes_first_and_is_marked(published: Path) -> None:
    text = page(published, "cards/b/one-wrong@1.0.html")
    first = re.search(r'<li class="case (\w+)" data-image="([^"]+)">(.*?)</li>\n<li class="case', text, re.S)
    assert first is not None and first.group(1) == "failed" and first.group(2) == "cifar10_03_0.png"
    assert "FAILED" in first.group(3) and 'class="expected">truck<' in first.group(3)
    assert "expected truck in the top 1, it ranks" in first.group(3)
    assert text.count('class="case passed"') == 19


def test_a_hostile_card_body_stays_inert(published: Path) -> None:
    text = page(published, "cards/c/hostile@1.0.html")
    body = text.split('<div class="body">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in text  # a card page runs no script at all
    assert "&lt;script&gt;alert('card')&lt;/script&gt;" in body  # shown as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert 'href="javascript:' not in text and 'href="data:' not in text
    assert '<a href="https://example.org/docs">docs</a>' in body
    assert "<img" not in body  # a card's image would be an external request


def test_the_run_page_puts_held_back_cards_first_with_the_reason(published: Path) -> None:
    text = page(published, "run.html")
    rows = re.findall(r'<tr class="(published|held)">(.*?)</tr>', text, re.S)
    assert [kind for kind, _ in rows] == ["held", "published", "published", "published", "published"]
    assert "cards/d/held.md" in rows[0][1] and "held back: check failed" in rows[0][1]
    assert '<a href="cards/a/canary@1.0.html">cards/a/canary.md</a>' in text


def test_golden_html_writes_the_gallery_of_a_run_without_publishing(published: Path, tmp_path: Path) -> None:
    root = published.parent.parent
    out = tmp_path / "review"
    result = run_cli("golden", "--store", str(root / "store"), "--config", str(root / "hub" / "hub.yaml"),
                     "--html", str(out), str(root / "cards" / "b" / "one-wrong.md"))
    assert result.exit_code == 0, result.output
    assert not (root / "dist" / "hub.generations" / "00000002").exists()  # nothing was published
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert pages == ["cards/0000-one-wrong.html", "index.html"]
    for name in pages:
        html5lib.HTMLParser(strict=True).parse((out / name).read_bytes())
    text = (out / "cards" / "0000-one-wrong.html").read_text(encoding="utf-8")
    assert text.count('<li class="case') == 20 and text.index('class="case failed"') < text.index('class="case passed"')
    assert (out / "images" / "one-wrong" / "cifar10_03_0.png").is_file()


def test_a_hub_published_without_a_catalog_gets_one_on_the_next_run(published: Path) -> None:
    root = published.parent.parent
    current = published.resolve()
    (current / "index.html").unlink()  # as an older hubtool left it
    result = run_cli("publish", "--to", str(published), "--store", str(root / "store"), "--offline",
                     "--allow-unverified", "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"))
    assert result.exit_code == 1
    assert published.resolve() != current and (published / "index.html").is_file()
