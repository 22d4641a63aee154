"""Benchmark the S3 store against boto3 on a real Ceph RGW on loopback (tests/servers/rgw.sh), whole processes.

For a 1 GiB blob (BENCH_S3_MIB), in alternating rounds:
- upload: `hubtool mirror --to s3://...` of a card whose asset is in the repository (read, hash
  into the local store, then put-if-absent: multipart, per-part payload hash, the whole-file
  hash checked before completing) against a boto3 script that hashes the file and calls
  `upload_file` (the transfer manager);
- download: `hubtool fetch` from an s3:// mirror (one pass: hash, fsync, rename) against a
  boto3 script that calls `download_file` and then hashes the file.
With --against-tree DIR, the upload also runs the same hubtool command from another checkout's
src/ (a worktree at the commit before a change): what the change costs, in the same rounds.
Uses $HUBTOOL_RGW_ENV's RGW, or starts one of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
from s3_servers import Server, rgw  # noqa: E402
from whole import HUBTOOL, alternate, arguments, compile_sources, report  # noqa: E402

from hubtool.assets.layout import blob_rel  # noqa: E402
from hubtool.assets.writer import hash_file  # noqa: E402

MIB = int(os.environ.get("BENCH_S3_MIB", "1024"))
CLIENT = ("import boto3, hashlib, sys\nfrom botocore.config import Config\n"
          "s3 = boto3.client('s3', endpoint_url=sys.argv[1], config=Config(s3={'addressing_style': 'path'}))\n"
          "def sha(path):\n    h = hashlib.sha256()\n    with open(path, 'rb') as f:\n"
          "        while b := f.read(1 << 20):\n            h.update(b)\n    return h.hexdigest()\n")
UPLOAD = CLIENT + "sha(sys.argv[2])\ns3.upload_file(sys.argv[2], sys.argv[3], sys.argv[4])\n"
DOWNLOAD = CLIENT + "s3.download_file(sys.argv[3], sys.argv[4], sys.argv[2])\nsha(sys.argv[2])\n"


def write_hub(root: Path, server: Server, link: str, digest: str, mirror: str = "") -> Path:
    (root / "hub").mkdir(parents=True, exist_ok=True)
    (root / "cards" / "u").mkdir(parents=True, exist_ok=True)
    (root / "hub" / "hub.yaml").write_text(
        f"name: bench\nobject-store:\n  endpoint-url: {server.endpoint}\n  addressing-style: path\n"
        "policy:\n  allowed-schemes: [http]\n  allowed-hosts: ['127.0.0.1']\n"
        "  allow-private-addresses: ['127.0.0.1']\n  max-asset-bytes: 17179869184\n  retries: 0\n"
        + (f"mirrors:\n- url: {mirror}\n  layout: by-hash\n" if mirror else ""))
    (root / "cards" / "u" / "m.md").write_text(
        f"# M\n---\nmodel-name: m\nuser-id: u\nmodel-version: '1'\nasset:\n- file-format: ckpt\n"
        f"  asset-link: {link}\n  asset-sha256: {digest}\n---\n")
    return root


def run(tmp: Path, rounds: int, against: Path | None = None) -> None:
    server = rgw()
    client, bucket = server.bucket()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key,
           "HUBTOOL_HOME": str(tmp / "home")}
    up = tmp / "up"
    (up / "hub" / "assets").mkdir(parents=True)
    src = up / "hub" / "assets" / "blob.bin"
    with open(src, "wb") as fh:
        for _ in range(MIB):
            fh.write(os.urandom(1 << 20))
    digest = hash_file(src)
    write_hub(up, server, "hub/assets/blob.bin", digest)

    def empty(name: str) -> None:  # put-if-absent would skip a blob already there
        for key in (f"m/{blob_rel(digest)}", "boto3/blob.bin"):
            client.delete_object(Bucket=bucket, Key=key)
        shutil.rmtree(tmp / "store-up", ignore_errors=True)

    commands = {
        "baseline: boto3 sha256 + upload_file": [sys.executable, "-c", UPLOAD, server.endpoint, str(src), bucket,
                                                 "boto3/blob.bin"],
        "hubtool mirror --to s3:// (verified)": [HUBTOOL, "mirror", "--to", f"s3://{bucket}/m", "--store",
                                                 str(tmp / "store-up")],
    }
    if against is not None:
        commands[f"the same, hubtool from {against}"] = ["env", f"PYTHONPATH={against / 'src'}",
                                                         *commands["hubtool mirror --to s3:// (verified)"]]
    uploads = alternate(commands, rounds, up, env, after=empty)
    report(f"{MIB} MiB blob to Ceph RGW on loopback, {rounds} alternating rounds, median (min-max):", uploads,
           "baseline: boto3 sha256 + upload_file")

    subprocess.run([HUBTOOL, "mirror", "--to", f"s3://{bucket}/m", "--store", str(tmp / "store-up")], cwd=up,
                   env=env, check=True, capture_output=True)
    client.upload_file(str(src), bucket, "boto3/blob.bin")
    down = write_hub(tmp / "down", server, "http://127.0.0.1:9/blob.bin", digest, mirror=f"s3://{bucket}/m")

    def clean(name: str) -> None:
        shutil.rmtree(tmp / "store-down", ignore_errors=True)
        (tmp / "down.bin").unlink(missing_ok=True)

    downloads = alternate({
        "baseline: boto3 download_file + sha256": [sys.executable, "-c", DOWNLOAD, server.endpoint,
                                                   str(tmp / "down.bin"), bucket, "boto3/blob.bin"],
        "hubtool fetch from an s3:// mirror": [HUBTOOL, "fetch", "--store", str(tmp / "store-down")],
    }, rounds, down, env, after=clean)
    report(f"{MIB} MiB blob from Ceph RGW on loopback:", downloads, "baseline: boto3 download_file + sha256")
    print("  targets: upload <= 1x and download < 1x boto3")


def main() -> None:
    args = arguments(__doc__ or "", rounds=3, extra=[("--against-tree", Path, "another checkout to compare")])
    compile_sources()
    own = not os.environ.get("HUBTOOL_RGW_ENV")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        if own:
            subprocess.run([str(HERE.parent / "tests" / "servers" / "rgw.sh"), "start", f"{tmp}/rgw"], check=True,
                           capture_output=True)
            os.environ["HUBTOOL_RGW_ENV"] = f"{tmp}/rgw/env"
        try:
            run(Path(tmp), args.rounds, args.against_tree)
        finally:
            if own:
                subprocess.run([str(HERE.parent / "tests" / "servers" / "rgw.sh"), "stop", f"{tmp}/rgw"])


if __name__ == "__main__":
    main()
