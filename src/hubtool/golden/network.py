"""Where a checkpoint's network comes from: the card's `network:`, hub.yaml's `golden.networks`, then the
card's repo-link when hub.yaml `golden.repositories` pins its repository, in that order.

A source is `mindcv:<model>` (mindcv's registry, pinned in the MindSpore env), a repository
folder of the hub (the hub's own convention: its `mindspore_hub_conf.py` has
`create_network(name)`, called with the card's model-name in lower case), or
`<folder>:<module>:<function>`; the mapping form adds `args` and `kwargs`.  A folder must lie
inside the hub: its code runs in the sandboxed worker, and its content digest keys the verdict.
A repo-link (`https://host/owner/repo/tree/<branch>/<model folder>`) is the hub's convention in
the model's folder of that repository: at the pinned commit (cloned into the store when the
golden step runs; the commit keys the verdict) or in a checkout the hub holds (`folder:`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

from ..assets.gitcode import checkout
from ..assets.hashing import hash_regular
from ..assets.store import DirectoryStore
from ..config import HubConfig, Policy, repository_key
from ..durable import JSON, JSONObject
from ..errors import NetworkSourceError, SpecialFile
from ..runtimes.protocol import Network, PinnedRepository

CONVENTION = ("mindspore_hub_conf", "create_network")
_SOURCE = re.compile(r"(?P<folder>[A-Za-z0-9_.][A-Za-z0-9_./-]*)(?::(?P<module>[A-Za-z_][A-Za-z0-9_.]*)"
                     r":(?P<function>[A-Za-z_][A-Za-z0-9_]*))?")
_SKIPPED = {"__pycache__", ".git", ".hg", ".svn"}
_MARKERS = ("/tree/", "/src/", "/blob/")


def split_repo_link(link: str) -> tuple[str, str | None] | None:
    """The repository of a repo-link and the path in it: the repository is what precedes /tree/<branch>/ (GitHub,
    Gitee), /src/<branch>/ (Gitea) or /blob/<branch>/, without .git; else the whole link. None: not a link.

    String searches, not the one regex this was: its lazy repository before optional groups backtracked
    polynomially (8,000 repeats of `/tree/x` in a link: 11 s)."""
    body = link[1:] if link.startswith("<") else link
    body = body[:-1] if body.endswith(">") else body
    if not body.startswith(("http://", "https://")) or any(c.isspace() or c in "<>" for c in body):
        return None
    least = body.index("://") + 4  # one character of repository after the scheme, at least
    if len(body) < least:
        return None
    found = [hit for marker in _MARKERS if (hit := _first_branch(body, marker, least)) is not None]
    if found:
        start, segment_end = min(found)
        if segment_end == -1:
            return body[:start], None
        rest = body[segment_end + 1:]
        return body[:start], rest[:-1] if rest.endswith("/") else rest
    for tail in (".git/", ".git", "/", ""):
        if body.endswith(tail) and len(body) - len(tail) >= least:
            return body[:len(body) - len(tail)], None
    return None


def _first_branch(body: str, marker: str, least: int) -> tuple[int, int] | None:
    """Where the repository ends before the first `marker` that names a branch, and where that branch ends."""
    at = body.find(marker, least - 1)
    while at != -1:
        start = at - 4 if at - 4 >= least and body[at - 4:at] == ".git" else at
        segment_end = body.find("/", at + len(marker))
        if start >= least and (segment_end if segment_end != -1 else len(body)) > at + len(marker):
            return start, segment_end
        at = body.find(marker, at + 1)
    return None


def network_entry(metadata: JSONObject, config: HubConfig) -> tuple[JSON, str] | None:
    """The card's or the hub's entry for this card's network, and where it was found."""
    if metadata.get("network") is not None:
        return metadata["network"], "the card's network:"
    name = metadata.get("model-name")
    if isinstance(name, str) and name.lower() in config.networks:
        return config.networks[name.lower()], "hub.yaml golden.networks"
    return None


def resolve_network(metadata: JSONObject, config: HubConfig) -> Network | None:
    """The network for this card's checkpoint; None when none is named; NetworkSourceError when it is unusable."""
    found = network_entry(metadata, config)
    if found is None:
        return _from_repo_link(metadata, config)
    entry, origin = found
    source, args, kwargs = _entry_parts(entry, origin)
    if source.startswith("mindcv:"):
        return Network("mindcv", source.removeprefix("mindcv:"), args=args, kwargs=kwargs, origin=origin,
                       digest="mindcv")
    match = _SOURCE.fullmatch(source)
    if match is None:
        raise NetworkSourceError(f"{origin} {source!r} is neither mindcv:<model>, a folder, nor "
                                 "<folder>:<module>:<function>")
    folder = _inside_hub(match["folder"], config.root, origin)
    module, function = match["module"], match["function"]
    if module is None:  # the hub's convention, with the card's model-name
        module, function = CONVENTION
        model = metadata.get("model-name")
        args = args or ((model.lower(),) if isinstance(model, str) else ())
    if not _module_file(folder, module).exists():
        raise NetworkSourceError(f"{origin} {source!r}: {match['folder']} has no module {module} "
                                 f"(no {module.replace('.', '/')}.py)")
    return Network("module", f"{module}:{function}", folder, args, kwargs, origin, folder_digest(folder),
                   location=match["folder"])


def _from_repo_link(metadata: JSONObject, config: HubConfig) -> Network | None:
    """The hub's convention in the model's folder of its pinned repository (None: the link is not pinned)."""
    link, name = metadata.get("repo-link"), metadata.get("model-name")
    split = split_repo_link(link.strip()) if isinstance(link, str) else None
    pin = config.repositories.get(repository_key(split[0])) if split else None
    if split is None or not isinstance(pin, dict) or not isinstance(name, str):
        return None
    repo, subpath = split[0], (split[1] or "").strip("/")
    if ".." in subpath.split("/"):
        raise NetworkSourceError(f"the card's repo-link {link!r} climbs out of its repository")
    origin = "the card's repo-link, pinned in hub.yaml golden.repositories"
    call = ("mindspore_hub_conf:create_network", (name.lower(),))
    if isinstance(pin.get("folder"), str):
        folder = _inside_hub(str(pin["folder"]), config.root, "hub.yaml golden.repositories")
        model = (folder / subpath).resolve()
        if not model.is_relative_to(folder) or not _module_file(model, CONVENTION[0]).exists():
            raise NetworkSourceError(f"{origin}: {pin['folder']}/{subpath} has no {CONVENTION[0]}.py")
        return Network("module", call[0], model, call[1], (), origin, folder_digest(model),
                       location="/".join(filter(None, [str(pin["folder"]).rstrip("/"), subpath])))
    commit = pin.get("commit")
    if not isinstance(commit, str):
        raise NetworkSourceError(f"hub.yaml golden.repositories {repo}: give a commit or a folder")
    repository = PinnedRepository(repo, commit, subpath)
    location = f"{repo}@{commit[:12]}" + (f"/{subpath}" if subpath else "")
    return Network("module", call[0], None, call[1], (), origin, f"git {commit}", repository, location)


def materialize(network: Network, store: DirectoryStore, policy: Policy, *, offline: bool) -> Network:
    """The network with its pinned repository checked out into the store (a no-op for other sources)."""
    repository = network.repository
    if repository is None:
        return network
    root = checkout(store, repository.url, repository.commit, policy, offline=offline)
    folder = (root / repository.subpath).resolve()
    if not folder.is_relative_to(root.resolve()) or not _module_file(folder, CONVENTION[0]).exists():
        raise NetworkSourceError(f"{repository.url} at {repository.commit[:12]} has no "
                                 f"{'/'.join(filter(None, [repository.subpath, CONVENTION[0]]))}.py")
    return dataclasses.replace(network, folder=folder)


def _entry_parts(entry: JSON, origin: str) -> tuple[str, tuple[JSON, ...], tuple[tuple[str, JSON], ...]]:
    if isinstance(entry, str):
        return entry, (), ()
    if isinstance(entry, dict) and isinstance(entry.get("source"), str):
        args = entry.get("args") or []
        kwargs = entry.get("kwargs") or {}
        if isinstance(args, list) and isinstance(kwargs, dict):
            return str(entry["source"]), tuple(args), tuple(sorted(kwargs.items()))
    raise NetworkSourceError(f"{origin} must be a source string or a mapping with source, args and kwargs")


def _inside_hub(relative: str, root: Path, origin: str) -> Path:
    folder = (root / relative).resolve()
    if not folder.is_relative_to(root.resolve()):
        raise NetworkSourceError(f"{origin} {relative!r} lies outside the hub")
    if not folder.is_dir():
        raise NetworkSourceError(f"{origin} {relative!r}: no such folder in the hub")
    return folder


def _module_file(folder: Path, module: str) -> Path:
    parts = module.split(".")
    as_file = folder.joinpath(*parts[:-1], parts[-1] + ".py")
    return as_file if as_file.exists() else folder.joinpath(*parts, "__init__.py")


def folder_digest(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes (symbolic links by their target): the code that runs.

    Remembered per folder for as long as no file's size, mtime or ctime changes (any write changes the
    ctime): a publish plans each card twice, and hub cards of one repository share its folders."""
    listing = tuple(_listing(folder))
    key = (str(folder), listing)
    found = _DIGESTS.get(key)
    if found is None:
        found = _digest(folder, listing)
        if len(_DIGESTS) > 4096:
            _DIGESTS.clear()
        _DIGESTS[key] = found
    return found


_DIGESTS: dict[tuple[str, tuple[tuple[str, int, int, int, bool], ...]], str] = {}


def _listing(folder: Path) -> list[tuple[str, int, int, int, bool]]:
    """(relative path, size, mtime_ns, ctime_ns, is a link) of every file and link, sorted; caches and VCS
    folders left out."""
    out = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if _SKIPPED.intersection(relative.parts):
            continue
        stat = path.lstat()
        if path.is_symlink() or path.is_file():
            out.append((str(relative), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, path.is_symlink()))
    return out


def _digest(folder: Path, listing: tuple[tuple[str, int, int, int, bool], ...]) -> str:
    """Each file by its SHA-256, read in chunks as a regular file only: a weights file of gigabytes in the folder
    was read whole into memory, and a name swapped for a FIFO after the listing would have blocked the read."""
    digest = hashlib.sha256()
    for relative, _, _, _, is_link in listing:
        path = folder / relative
        name = relative.encode("utf-8", "surrogateescape") + b"\0"
        if is_link:
            digest.update(b"L" + name + str(path.readlink()).encode("utf-8", "surrogateescape") + b"\0")
            continue
        try:
            content, found = hash_regular(path)
        except SpecialFile as exc:
            raise NetworkSourceError(f"{path} in the network's folder is {exc.what}, not a file of its code") from exc
        digest.update(b"F" + name + str(found.st_size).encode() + b"\0" + content.encode() + b"\0")
    return digest.hexdigest()
