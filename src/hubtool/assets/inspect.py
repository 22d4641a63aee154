"""What an asset file really is, from its bytes (no runtime, microseconds).

Used by `hubtool inspect`, by fetch to explain a hash mismatch (an HTML error
page or a Git-LFS pointer instead of the model), and by golden inference to
refuse MindSpore Lite files that runtime 2.0.0 cannot load before spawning it.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from .. import textdecode

HEAD_BYTES = 64 * 1024
#: bumped whenever a verdict on the same bytes can change: ledgers key the remembered facts on it
INSPECTOR = 2  # 2: checkpoints are read in full (their parameters)
_LFS = b"version https://git-lfs.github.com/spec/v1"
_NO_DETAILS: Mapping[str, str] = MappingProxyType({})


class FileFacts(NamedTuple):
    """The verdict on one file: a kind, a one-line description, and details.  (Named tuples, not dataclasses,
    here: a replay imports this module for INSPECTOR, and `dataclasses` was ~10 ms of it with runs.py's.)"""

    kind: str  # mslite, onnx, mindir, ckpt, lfs-pointer, html, zip, empty, unknown
    description: str
    details: Mapping[str, str] = _NO_DETAILS
    built_by: str | None = None  # for 1.0/1.1 MindSpore Lite files: the release that wrote them

    @property
    def ms_format(self) -> str | None:
        """'MSL2', 'MSL1' or 'v0' for MindSpore Lite files."""
        return self.details.get("format") if self.kind == "mslite" else None


class MsHeader(NamedTuple):
    """What the first table of a MindSpore Lite file says."""

    format: str  # MSL2, MSL1 or v0
    name: str | None = None  # MetaGraph.name
    version: str | None = None  # MetaGraph.version, e.g. "MindSpore Lite 1.0.0"


def inspect_file(path: Path) -> FileFacts:
    """Classify a file; .ms headers are read through mmap, so size does not matter.

    Only a regular file is read (SpecialFile otherwise): a FIFO would never answer."""
    import mmap  # here: a replay imports this module for INSPECTOR only, and mmap's import was ~1.7 ms of it

    with textdecode.open_regular(path) as fh:
        head = fh.read(HEAD_BYTES)
        size = fh.seek(0, 2)
        if size <= len(head) or size < 16:
            facts = sniff(head)
        else:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                header = ms_header(mapped)  # type: ignore[arg-type]  # mmap supports the buffer protocol
            facts = _mslite(head, size, header) or sniff(head, size=size)
    if facts.kind == "ckpt":
        return checkpoint_facts(path)
    return mindir_facts(path) if facts.kind == "mindir" else facts


def mindir_facts(path: Path) -> FileFacts:
    """A MindIR model's verdict from its field headers: producer, inputs, parameters, operators."""
    from ..errors import ProtobufFormatError
    from .mindir import read_mindir

    try:
        model = read_mindir(path)
    except ProtobufFormatError as exc:
        return FileFacts("unknown", f"a protobuf message, but not a MindSpore MindIR model: {exc.message}")
    shapes = ", ".join(f"{t.dtype} {list(t.shape)}" for t in model.inputs) or "none"
    producer = f"{model.producer} {model.producer_version}".strip()
    details = {"producer": producer, "ir-version": model.ir_version, "inputs": shapes,
               "parameters": str(len(model.parameters)), "values": str(model.values)}
    text = (f"a MindSpore MindIR model (from {producer}, MindIR {model.ir_version}): input {shapes}, "
            f"{len(model.parameters):,} parameters, {model.values:,} values, "
            f"{sum(model.operators.values()):,} operators")
    return FileFacts("mindir", text, details)


def checkpoint_facts(path: Path) -> FileFacts:
    """A checkpoint's verdict from all its field headers: how many parameters, values and of which types."""
    from ..errors import CheckpointFormatError
    from .ckpt import read_checkpoint

    try:
        found = read_checkpoint(path)
    except CheckpointFormatError as exc:
        return FileFacts("unknown", f"a protobuf message, but not a MindSpore checkpoint: {exc.message}")
    types = ", ".join(f"{t} {n}" for t, n in sorted(found.dtypes().items()))
    details = {"parameters": str(len(found.parameters)), "values": str(found.values), "dtypes": types}
    text = f"a MindSpore checkpoint: {len(found.parameters):,} parameters, {found.values:,} values ({types})"
    if found.damaged:
        details["damaged"] = found.damaged
        text += f"; damaged after them: {found.damaged}"
    elif found.problems:
        details["problems"] = str(len(found.problems))
        text += f"; {len(found.problems)} tensor(s) whose content does not fit their shape"
    return FileFacts("ckpt", text, details)


def sniff(data: bytes, *, size: int | None = None) -> FileFacts:
    """Classify `data` (a whole file, or its head when `size` says it is longer)."""
    size = len(data) if size is None else size
    if size == 0:
        return FileFacts("empty", "an empty file")
    if data.startswith(_LFS):
        return _lfs(data)
    lowered = data[:1024].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in lowered[:512]:
        return FileFacts("html", "an HTML page (an error or login page, not a model)")
    if data.startswith(b"PK\x03\x04"):
        return FileFacts("zip", "a zip archive")
    ms = _mslite(data, size, ms_header(data) if size == len(data) else None)
    if ms is not None:
        return ms
    return _protobuf(data)


def _lfs(data: bytes) -> FileFacts:
    details = {}
    for line in data[:1024].decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        if key in ("oid", "size"):
            details[key] = value
    return FileFacts("lfs-pointer", "a Git-LFS pointer file, not the model it points to "
                     f"({details.get('oid', 'no oid')}, size {details.get('size', '?')})", details)


def _read_string(data: bytes, table: int, vtable: int, vt_size: int, slot: int) -> str | None:
    entry = 4 + 2 * slot
    if entry + 2 > vt_size:
        return None
    field_off = struct.unpack_from("<H", data, vtable + entry)[0]
    if field_off == 0:
        return None
    pos = table + field_off
    if pos + 4 > len(data):
        raise ValueError("field out of range")
    target = pos + struct.unpack_from("<I", data, pos)[0]
    if target + 4 > len(data):
        raise ValueError("string out of range")
    length = struct.unpack_from("<I", data, target)[0]
    if length > 4096 or target + 4 + length > len(data):
        raise ValueError("string length out of range")
    return data[target + 4:target + 4 + length].decode("utf-8", "replace")


def ms_header(data: bytes) -> MsHeader | None:
    """The header of a MindSpore Lite file, or None when `data` is not one.

    FlatBuffers: uint32 root-table offset, then (optionally) a 4-byte file
    identifier; the table starts with an int32 offset back to its vtable, whose
    slots 0 and 1 are the MetaGraph's `name` and `version` strings.
    """
    if len(data) < 16:
        return None
    try:
        root = struct.unpack_from("<I", data, 0)[0]
        if not 8 <= root <= len(data) - 4:
            return None
        vtable = root - struct.unpack_from("<i", data, root)[0]
        if not 0 <= vtable <= len(data) - 4:
            return None
        vt_size, table_size = struct.unpack_from("<HH", data, vtable)
        if vt_size < 4 or vt_size % 2 or vtable + vt_size > len(data) or table_size < 4:
            return None
        name = _read_string(data, root, vtable, vt_size, 0)
        version = _read_string(data, root, vtable, vt_size, 1)
    except (ValueError, struct.error):
        return None
    ident = data[4:8]
    if ident in (b"MSL2", b"MSL1"):
        return MsHeader(ident.decode(), name, version)
    if version is not None and version.startswith("MindSpore Lite"):
        return MsHeader("v0", name, version)
    return None


def _mslite(data: bytes, size: int, header: MsHeader | None) -> FileFacts | None:
    if header is None and data[4:8] in (b"MSL2", b"MSL1"):
        header = MsHeader(data[4:8].decode())
    if header is None:
        return None
    details = {"format": header.format}
    if header.name:
        details["name"] = header.name
    if header.version:
        details["version"] = header.version
    if header.format == "MSL2":
        written = f", written by {header.version}" if header.version else ""
        # parseable is all the bytes can promise: whether 2.0.0 builds it depends on every operator
        # (`hubtool inspect` lists them; `inspect --load` builds it in the real runtime)
        text = f"MindSpore Lite model (MSL2 format{written}): parseable by runtime 2.0.0; not yet loaded"
        return FileFacts("mslite", text, details)
    if header.format == "MSL1":
        built_by = "MindSpore Lite 1.1"
        text = (f"MindSpore Lite model built by {built_by} (MSL1 format), which runtime 2.0.0 "
                "cannot load; reconvert with converter >= 1.2")
    else:
        built_by = header.version or "MindSpore Lite 1.0"
        text = (f"MindSpore Lite model built by {built_by} (v0 format, no file "
                "identifier), which runtime 2.0.0 cannot load; reconvert with converter >= 1.2")
    return FileFacts("mslite", text, details, built_by)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ValueError("bad varint")


def _protobuf(data: bytes) -> FileFacts:
    """ONNX, MindIR and MindSpore checkpoints are protobuf messages: tell them apart by their fields."""
    try:
        return _protobuf_kind(data)
    except (ValueError, IndexError):
        return FileFacts("unknown", "not a format hubtool recognises")


def _protobuf_kind(data: bytes) -> FileFacts:
    tag, pos = _varint(data, 0)
    head = data[:4096]
    if tag == 0x08:  # onnx.ModelProto: field 1 ir_version (varint)
        ir_version, _ = _varint(data, pos)
        if 1 <= ir_version <= 20:
            return FileFacts("onnx", f"an ONNX model (IR version {ir_version})", {"ir-version": str(ir_version)})
    if tag == 0x0A:  # length-delimited field 1
        length, start = _varint(data, pos)
        if b"MindSpore" in head or b"mindspore" in head:
            if b"producer" in head or length < 32:
                return FileFacts("mindir", "a MindSpore MindIR model (protobuf ModelProto)")
        inner_tag = data[start] if start < len(data) else None
        if inner_tag == 0x0A:  # Checkpoint.value[0].tag (string)
            return FileFacts("ckpt", "a MindSpore checkpoint (protobuf Checkpoint of named tensors)")
    return FileFacts("unknown", "not a format hubtool recognises")
