"""Which files under a folder are cards (cards/listing.py `card_files`, `discover`): the listing a check, a
publish and the facts cache share, held to the os.walk listing it replaced, on a tree with the cases a hub
can hold (links, loops, another hub, hidden folders, READMEs, special files)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from hubtool.cards.listing import _path_parts, card_files, discover


def walked(paths: list[Path]) -> list[str]:
    """The listing as os.walk gives it: symbolic links to folders listed and not entered, hidden folders and
    folders holding hub/hub.yaml not entered, README.md not a card; sorted and deduplicated by path parts."""
    found: dict[tuple[str, ...], str] = {}
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")
                           and not os.path.isfile(os.path.join(root, d, "hub", "hub.yaml"))]
                for name in files:
                    if name.endswith(".md") and name.lower() != "readme.md":
                        found.setdefault((*_path_parts(root), name), os.path.join(root, name))
        else:
            found.setdefault(_path_parts(str(path)), str(path))
    return [found[key] for key in sorted(found)]


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    cards = tmp_path / "cards"
    for rel in ["a/one.md", "a/b/two.md", "a/b/c/three.md", "z.md", "a/notes.txt", "a/README.md", "a/readme.MD",
                ".hidden/secret.md", "a/.git/x.md", "other/hub/hub.yaml", "other/cards/theirs.md",
                "notahub/hub/hub.yaml.d/x.md", "notahub/card.md", "outside/linked.md", "a/b/é-ü.md"]:
        (cards / rel).parent.mkdir(parents=True, exist_ok=True)
        (cards / rel).write_text("x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "far.md").write_text("x")
    (cards / "linked-folder").symlink_to(tmp_path / "elsewhere")  # listed as a folder, never entered
    (cards / "folder.md").symlink_to(cards / "a")  # a link to a folder named like a card: a folder
    (cards / "dangling.md").symlink_to(cards / "missing")  # a file that cannot be read: a card, said so
    (cards / "loop").symlink_to(cards / "loop")  # ELOOP on every look at it
    (cards / "a" / "b" / "up").symlink_to(cards)  # a cycle, if links were followed
    (cards / "fifo.md").parent.mkdir(exist_ok=True)
    os.mkfifo(cards / "fifo.md")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(cards / "a" / "sock.md"))
    return cards


def test_card_files_lists_what_os_walk_listed(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree.parent)
    for paths in ([tree], [Path("cards")], [Path("cards/")], [Path("./cards/a"), Path("cards")],
                  [Path("cards/a/one.md"), Path("cards/a")], [Path(".")], [tree / "a" / "b"]):
        assert card_files(paths) == walked(paths), paths
        assert discover(paths) == [Path(p) for p in walked(paths)]
    assert [os.path.relpath(p, tree) for p in card_files([tree])] == [
        "a/b/c/three.md", "a/b/two.md", "a/b/é-ü.md", "a/one.md", "a/sock.md", "dangling.md", "fifo.md",
        "notahub/card.md", "notahub/hub/hub.yaml.d/x.md", "outside/linked.md", "z.md"]


def test_a_folder_that_cannot_be_listed_is_left_out(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As os.walk does (without onerror): the rest of the hub is still listed."""
    real = os.scandir
    blocked = str(tree / "a" / "b")

    def scandir(path: str) -> object:
        if os.fspath(path) == blocked:
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    listed = card_files([tree])
    assert listed == walked([tree]) and not any("/b/" in p for p in listed) and any("one.md" in p for p in listed)
