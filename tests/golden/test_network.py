"""Where a checkpoint's network comes from (golden/network.py), decided offline and without the framework."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from hubtool.config import load_config
from hubtool.errors import NetworkSourceError
from hubtool.golden import network
from hubtool.golden.network import folder_digest, resolve_network, split_repo_link


def hub(root: Path, networks: str = "") -> Path:
    (root / "hub" / "networks" / "net").mkdir(parents=True)
    (root / "hub" / "networks" / "net" / "mindspore_hub_conf.py").write_text("def create_network(name): pass\n")
    (root / "hub" / "networks" / "net" / "pkg").mkdir()
    (root / "hub" / "networks" / "net" / "pkg" / "__init__.py").write_text("def build(): pass\n")
    (root / "hub" / "hub.yaml").write_text("name: t\n" + (f"golden:\n  networks:\n{networks}" if networks else ""))
    return root / "hub" / "hub.yaml"


def test_the_card_s_folder_uses_the_hub_s_convention_with_the_model_name(tmp_path: Path) -> None:
    config = load_config(hub(tmp_path))
    net = resolve_network({"model-name": "ResNet50", "network": "hub/networks/net"}, config)
    assert net is not None and net.runs_repository_code
    assert (net.name, net.args) == ("mindspore_hub_conf:create_network", ("resnet50",))
    assert net.origin == "the card's network:"
    assert net.folder == (tmp_path / "hub" / "networks" / "net").resolve()


def test_an_explicit_function_and_a_mapping_with_arguments(tmp_path: Path) -> None:
    config = load_config(hub(tmp_path))
    net = resolve_network({"network": {"source": "hub/networks/net:pkg:build", "args": [3],
                                       "kwargs": {"width": 2, "a": None}}}, config)
    assert net is not None and net.name == "pkg:build" and net.args == (3,)
    assert net.kwargs == (("a", None), ("width", 2))
    assert net.describe() == "pkg.build(3, a=None, width=2) from hub/networks/net"


def test_mindcv_runs_no_repository_code(tmp_path: Path) -> None:
    net = resolve_network({"network": "mindcv:resnet18"}, load_config(hub(tmp_path)))
    assert net is not None and not net.runs_repository_code and net.describe() == "mindcv:resnet18"


def test_hub_yaml_networks_are_found_by_model_name_in_any_case(tmp_path: Path) -> None:
    config = load_config(hub(tmp_path, "    ResNet50: mindcv:resnet50\n"))
    net = resolve_network({"model-name": "resnet50"}, config)
    assert net is not None and net.origin == "hub.yaml golden.networks" and net.name == "resnet50"
    card_first = resolve_network({"model-name": "resnet50", "network": "mindcv:resnet18"}, config)
    assert card_first is not None and card_first.name == "resnet18"
    assert resolve_network({"model-name": "other"}, config) is None


@pytest.mark.parametrize("entry, message", [
    ("../../etc", "lies outside the hub"),
    ("hub/networks/none", "no such folder in the hub"),
    ("hub/networks/net:missing:f", "has no module missing"),
    ("hub networks", "is neither mindcv:<model>, a folder, nor"),
    ({"source": "mindcv:x", "args": "not a list"}, "must be a source string or a mapping"),
    (7, "must be a source string or a mapping"),
])
def test_unusable_sources_are_refused_with_the_reason(tmp_path: Path, entry: object, message: str) -> None:
    with pytest.raises(NetworkSourceError, match=message):
        resolve_network({"network": entry}, load_config(hub(tmp_path)))  # type: ignore[dict-item]


def test_a_link_leading_out_of_the_hub_is_refused(tmp_path: Path) -> None:
    config = load_config(hub(tmp_path / "h"))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "h" / "hub" / "networks" / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(NetworkSourceError, match="lies outside the hub"):
        resolve_network({"network": "hub/networks/link"}, config)


def test_the_digest_follows_every_file_of_the_code_but_not_caches(tmp_path: Path) -> None:
    hub(tmp_path)
    folder = tmp_path / "hub" / "networks" / "net"
    first = folder_digest(folder)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert folder_digest(folder) == first
    (folder / "pkg" / "__init__.py").write_text("def build(): return 1\n")
    changed = folder_digest(folder)
    assert changed != first
    (folder / "pkg" / "__init__.py").rename(folder / "pkg" / "renamed.py")
    assert folder_digest(folder) not in (first, changed)


@pytest.mark.parametrize(("link", "split"), [
    ("https://gitee.com/mindspore/models", ("https://gitee.com/mindspore/models", None)),
    ("<https://gitee.com/mindspore/models.git/>", ("https://gitee.com/mindspore/models", None)),
    ("https://github.com/o/r/tree/master/official/cv/resnet/", ("https://github.com/o/r", "official/cv/resnet")),
    ("https://gitea.example/o/r.git/src/v1.2", ("https://gitea.example/o/r", None)),
    ("https://h/o/r/blob/main/a.py", ("https://h/o/r", "a.py")),
    ("https://h/o/tree//tree/b/x", ("https://h/o/tree/", "x")),  # an empty branch is no branch: the next one is
    ("https://h/tree", ("https://h/tree", None)),
    ("https://", None), ("ftp://h/o/r", None), ("https://h/o r", None), ("https://h/<o>", None),
])
def test_a_repo_link_splits_into_its_repository_and_path(link: str, split: tuple[str, str | None] | None) -> None:
    assert split_repo_link(link) == split


def test_a_hostile_repo_link_splits_in_one_pass() -> None:
    """100,000 `/tree/x`: the regex this replaced backtracked for hours on such a link (11 s at 8,000)."""
    link = "https://h/o" + "/tree/x" * 100_000
    assert split_repo_link(link) == ("https://h/o", "/".join(["tree", "x"] * 99_999))


def test_the_digest_reads_a_large_file_in_chunks_not_whole(tmp_path: Path) -> None:
    """A weights file in a network's folder was read whole into memory to be hashed."""
    hub(tmp_path)
    folder = tmp_path / "hub" / "networks" / "net"
    with open(folder / "weights.ckpt", "wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: 64 MiB of zeros, nothing on disk
    tracemalloc.start()
    try:
        folder_digest(folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, peak


def test_a_file_swapped_for_a_fifo_after_the_listing_is_not_waited_on(tmp_path: Path, alarm: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    hub(tmp_path)
    folder = tmp_path / "hub" / "networks" / "net"
    listed = network._listing(folder)
    (folder / "mindspore_hub_conf.py").unlink()
    os.mkfifo(folder / "mindspore_hub_conf.py")  # what the listing saw as a file is now a FIFO
    monkeypatch.setattr(network, "_listing", lambda _folder: listed)
    with pytest.raises(NetworkSourceError, match="is a FIFO, not a file of its code"):
        folder_digest(folder)
