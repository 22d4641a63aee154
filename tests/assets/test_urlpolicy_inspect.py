"""URL policy rules and file inspection from bytes."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from helpers import SHARED, fake_ms
from hubtool.assets.inspect import MsHeader, inspect_file, ms_header, sniff
from hubtool.assets.urlpolicy import check_url
from hubtool.config import Policy
from hubtool.errors import PolicyError

HTTPS = Policy(allowed_hosts=("download.mindspore.cn", "*.example.org"))


@pytest.mark.parametrize("url, reason", [
    ("http://download.mindspore.cn/a.ms", "scheme 'http' is not allowed"),
    ("ftp://download.mindspore.cn/a.ms", "scheme 'ftp'"),
    ("https://user:pw@download.mindspore.cn/a.ms", "credentials"),
    ("https://evil.test/a.ms", "not on the hub's allow-list"),
    ("https://example.org/a.ms", "not on the hub's allow-list"),  # '*.example.org' means sub-domains only
    ("https:///a.ms", "no host"),
])
def test_policy_refusals(url: str, reason: str) -> None:
    with pytest.raises(PolicyError, match=reason):
        check_url(url, HTTPS, resolve=False)


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.8", "192.168.1.1", "169.254.169.254", "[::1]",
                                  "0.0.0.0", "2130706433", "[fe80::1]"])
def test_private_addresses_are_refused(host: str) -> None:
    with pytest.raises(PolicyError, match="private, loopback or link-local"):
        check_url(f"https://{host}/a.ms", Policy())


def test_private_address_allowed_explicitly() -> None:
    assert check_url("http://127.0.0.1:8080/a", Policy(allowed_schemes=("http",),
                                                        allow_private=("127.0.0.0/8",))).port == 8080


def test_subdomain_wildcard_allowed() -> None:
    assert check_url("https://cdn.example.org/a", HTTPS, resolve=False).host == "cdn.example.org"


@pytest.mark.parametrize("ident, fmt", [(b"MSL2", "MSL2"), (b"MSL1", "MSL1"), (b"\0\0\0\0", "v0")])
def test_ms_header_formats(ident: bytes, fmt: str) -> None:
    header = ms_header(fake_ms(ident, "MindSpore Lite 1.0.0"))
    assert header == MsHeader(fmt, "net", "MindSpore Lite 1.0.0")


def test_ms_header_garbage_is_not_ms() -> None:
    for data in (b"", b"\xff" * 64, struct.pack("<I", 10 ** 9) + b"\0" * 60, b"\x10\0\0\0" + b"\xff" * 60):
        assert ms_header(data) is None


def test_sniff_kinds() -> None:
    assert sniff(b"").kind == "empty"
    assert sniff(b"  <html><body>x</body></html>").kind == "html"
    lfs = sniff(b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 12\n")
    assert lfs.kind == "lfs-pointer" and lfs.details == {"oid": "sha256:ab", "size": "12"}
    assert sniff(b"\x08\x07\x12\x04onnx").kind == "onnx"
    assert sniff(b"PK\x03\x04rest").kind == "zip"
    assert sniff(b"just some text").kind == "unknown"


@pytest.mark.skipif(not (SHARED / "legacy-ms").is_dir(), reason="../shared/legacy-ms is not beside this checkout")
def test_real_legacy_models_are_diagnosed_as_1_0() -> None:
    for path in sorted((SHARED / "legacy-ms").glob("*.ms")):
        facts = inspect_file(path)
        assert facts.ms_format == "v0", path
        assert "MindSpore Lite 1.0.0" in facts.description and "runtime 2.0.0 cannot load" in facts.description


def test_inspect_command(tmp_path: Path) -> None:
    from helpers import run_cli

    target = tmp_path / "m.ms"
    target.write_bytes(fake_ms(b"\0\0\0\0", "MindSpore Lite 1.0.0") + b"\0" * 70000)
    result = run_cli("inspect", str(target))
    assert result.exit_code == 0 and "built by MindSpore Lite 1.0.0" in result.output
    assert run_cli("inspect", str(tmp_path / "missing")).exit_code == 2


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hubtool.errors import AssetError  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.builds(lambda s, h, p: f"{s}://{h}{p}",
                                        st.sampled_from(["http", "https", "file", "HTTPS", ""]),
                                        st.text(max_size=30), st.text(max_size=20)))
def test_hostile_urls_give_policy_errors_only(url: str) -> None:
    try:
        check_url(url, HTTPS, resolve=False)
    except AssetError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_sniffing_arbitrary_bytes_never_raises(data: bytes) -> None:
    sniff(data)
    ms_header(data)
