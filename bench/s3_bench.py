"""Benchmark the S3 store against boto3 on a real Ceph RGW on loopback (tests/servers/rgw.sh).

In one run, for a 1 GiB blob (BENCH_S3_MIB): upload with hubtool's put-if-absent (multipart,
per-part payload hash, whole-file hash checked before completing) versus boto3's transfer
manager (upload_file); verified download with hubtool's one-pass fetch (hash + fsync + rename)
versus boto3's download_file followed by a separate sha256 pass.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from s3_servers import rgw  # noqa: E402

from hubtool.assets.s3.blobs import S3BlobStore  # noqa: E402
from hubtool.assets.s3.client import S3Location  # noqa: E402
from hubtool.assets.store import DirectoryStore  # noqa: E402
from hubtool.assets.writer import hash_file  # noqa: E402

MIB = int(os.environ.get("BENCH_S3_MIB", "1024"))


def main() -> None:
    own = not os.environ.get("HUBTOOL_RGW_ENV")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        if own:
            subprocess.run([str(HERE.parent / "tests" / "servers" / "rgw.sh"), "start", f"{tmp}/rgw"], check=True,
                           capture_output=True)
            os.environ["HUBTOOL_RGW_ENV"] = f"{tmp}/rgw/env"
        try:
            run(Path(tmp))
        finally:
            if own:
                subprocess.run([str(HERE.parent / "tests" / "servers" / "rgw.sh"), "stop", f"{tmp}/rgw"])


def run(tmp: Path) -> None:
    server = rgw()
    client, bucket = server.bucket()
    src = tmp / "blob.bin"
    with open(src, "wb") as fh:
        for _ in range(MIB):
            fh.write(os.urandom(1 << 20))
    digest = hash_file(src)
    store = S3BlobStore(S3Location(bucket, "h/"), client)

    # alternate the order (a fresh memstore is slower to fill): best of two of each
    ours_up = boto_up = float("inf")
    for turn in range(2):
        for ours in ((True, False) if turn == 0 else (False, True)):
            start = time.perf_counter()
            if ours:
                store.put_file(digest, src, source="bench")
            else:
                client.upload_file(str(src), bucket, "boto3/blob.bin")
            took = time.perf_counter() - start
            if ours:
                ours_up = min(ours_up, took)
            else:
                boto_up = min(boto_up, took)
            if turn == 0:  # empty again for the second turn (put-if-absent would skip an existing blob)
                if ours:
                    store.remove(digest)
                else:
                    client.delete_object(Bucket=bucket, Key="boto3/blob.bin")

    local = DirectoryStore(tmp / "store")
    start = time.perf_counter()
    store.fetch(digest, local)
    ours_down = time.perf_counter() - start
    start = time.perf_counter()
    client.download_file(bucket, "boto3/blob.bin", str(tmp / "down.bin"))
    sha = hashlib.sha256()
    with open(tmp / "down.bin", "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
    assert sha.hexdigest() == digest
    boto_down = time.perf_counter() - start
    for key in (store.blob_key(digest), "boto3/blob.bin"):
        client.delete_object(Bucket=bucket, Key=key)
    print(f"{MIB} MiB blob, Ceph RGW 16.2 (memstore) on loopback (uploads: best of 2, alternating order):")
    print(f"  upload   hubtool put-if-absent (verified before visible): {ours_up:6.2f} s   "
          f"boto3 upload_file: {boto_up:6.2f} s   ratio {ours_up / boto_up:.2f} (target <= 1)")
    print(f"  download hubtool fetch (hash + fsync + rename, one pass):  {ours_down:6.2f} s   "
          f"boto3 download_file + sha256: {boto_down:6.2f} s   ratio {ours_down / boto_down:.2f} (target < 1)")


if __name__ == "__main__":
    main()
