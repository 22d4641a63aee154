"""Golden inference on the real runtime with the committed canary: passes, and fails for the right reasons."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from faultserver import FaultServer
from PIL import Image

from helpers import CANARY_SHA, REPO, canary_card, card_text, fake_ms, run_cli, runtime_env
from hubtool.assets.sources import build_fetcher
from hubtool.assets.store import DirectoryStore
from hubtool.cards.validate import CardChecker
from hubtool.config import load_config
from hubtool.errors import GoldenSetError, ImageError
from hubtool.golden.card import GoldenRunner
from hubtool.golden.imaging import Preprocess, load_rgb, to_tensor
from hubtool.golden.sets import load_set


def make_hub(root: Path, cards: dict[str, str], *, set_edit: object = None) -> Path:
    """A copy of this repository's hub (assets, golden sets) with the given cards."""
    shutil.copytree(REPO / "hub", root / "hub")
    (root / "hub" / "hub.yaml").write_text("name: t\ngolden:\n  default-sets: {cifar10: cifar10}\n"
                                           "policy:\n  allowed-hosts: [download.mindspore.cn]\n")
    for rel, text in cards.items():
        (root / "cards" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "cards" / rel).write_text(text)
    return root


def verdict(root: Path, rel: str, **fetch_kwargs: object):  # type: ignore[no-untyped-def]
    runtime_env()
    config = load_config(root / "hub" / "hub.yaml")
    card = CardChecker(config).load(root / "cards" / rel).card
    assert card is not None
    fetcher = build_fetcher(DirectoryStore(root / "store"), config.policy, hub_root=config.root,
                            **fetch_kwargs)  # type: ignore[arg-type]
    return GoldenRunner(config, fetcher, timeout=60).run(card.metadata)


def test_canary_passes_its_set(tmp_path: Path) -> None:
    root = make_hub(tmp_path, {"u/c.md": canary_card()})
    result = verdict(root, "u/c.md")
    assert (result.status, result.correct, result.required) == ("passed", 20, 20), result.message
    assert max(c.deviation or 0 for c in result.cases) < 1e-4
    assert result.details and (result.details.inspect or "").startswith("MindSpore Lite model (MSL2")


@pytest.mark.parametrize("override, expect", [
    ("channels: BGR", "cases passed"),
    ("scale: 0.00392156862745098", "cases passed"),
    ("layout: NCHW", "preprocessing does not fit the model"),
    ("size: [28, 28]", "preprocessing does not fit the model"),
])
def test_each_preprocessing_mistake_fails(tmp_path: Path, override: str, expect: str) -> None:
    golden = f"golden:\n  set: cifar10-canary\n  preprocess:\n    {override}\n"
    root = make_hub(tmp_path, {"u/c.md": canary_card(golden=golden)})
    result = verdict(root, "u/c.md")
    assert result.status == "failed" and expect in result.message
    if "cases passed" in expect:
        assert result.correct < 20 and result.failed_cases
        assert all(c.message for c in result.failed_cases)


def test_wrong_expected_label_fails_exactly_that_case(tmp_path: Path) -> None:
    root = make_hub(tmp_path, {"u/c.md": canary_card()})
    spec = root / "hub" / "golden" / "cifar10-canary" / "golden.yaml"
    spec.write_text(spec.read_text().replace("{image: cifar10_03_0.png, expect: airplane}",
                                             "{image: cifar10_03_0.png, expect: truck}"))
    result = verdict(root, "u/c.md")
    assert result.status == "failed"
    [case] = result.failed_cases
    assert case.image == "cifar10_03_0.png" and case.expected == "truck"
    assert "expected truck in the top 1" in case.message and case.top[0][0] == "airplane"


def test_reference_deviation_is_reported_with_its_size(tmp_path: Path) -> None:
    root = make_hub(tmp_path, {"u/c.md": canary_card()})
    ref_path = root / "hub" / "golden" / "cifar10-canary" / "reference-outputs.json"
    ref = json.loads(ref_path.read_text())
    ref["outputs"]["cifar10_05_6.png"][6] += 0.01
    ref_path.write_text(json.dumps(ref))
    result = verdict(root, "u/c.md")
    [case] = result.failed_cases
    assert case.image == "cifar10_05_6.png" and case.rank == 1
    assert case.deviation is not None and 0.009 < case.deviation < 0.011
    assert "deviates from the reference by up to 0.01" in case.message


def test_near_tie_is_reported(tmp_path: Path) -> None:
    root = make_hub(tmp_path, {"u/c.md": canary_card()})
    result = verdict(root, "u/c.md")
    [case12] = [c for c in result.cases if c.image == "cifar10_12_5.png"]
    assert case12.top_k == 2 and case12.passed and {case12.top[0][0], case12.top[1][0]} == {"dog", "deer"}


def test_untranslatable_legacy_ms_fails_without_a_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    legacy = fake_ms(b"\0\0\0\0", "MindSpore Lite 1.0.0")
    sha = hashlib.sha256(legacy).hexdigest()
    root = make_hub(tmp_path, {"u/old.md": canary_card().replace(CANARY_SHA, sha).replace(
        "hub/assets/cifar10-cnn-canary.ms", "hub/assets/old.ms")})
    (root / "hub" / "assets" / "old.ms").write_bytes(legacy)

    def no_worker(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker was spawned for a file inspection already refuses")

    monkeypatch.setattr("hubtool.runtimes.mslite.client.MsliteWorker.start", no_worker)
    result = verdict(root, "u/old.md")
    assert result.status == "failed"
    assert "built by MindSpore Lite 1.0.0" in result.message and "runtime 2.0.0 cannot load" in result.message
    assert "reconvert with converter >= 1.2" in result.message
    assert "translator cannot revive it: cannot translate this model to MSL2: the graph has no operators" \
        in result.message


def test_corrupted_asset_fails_and_the_next_card_still_passes(tmp_path: Path) -> None:
    broken = bytearray((REPO / "hub" / "assets" / "cifar10-cnn-canary.ms").read_bytes())
    broken[len(broken) // 2:] = bytes(len(broken) - len(broken) // 2)  # zero the second half
    # a card whose hash is the broken file's: it passes the door, and only running it can tell
    bad_card = card_text(extra="golden:\n  set: cifar10-canary\n", fmt="mslite", link="hub/assets/broken.ms",
                         sha=hashlib.sha256(broken).hexdigest(), **{"model-name": "bad"})
    root = make_hub(tmp_path, {"u/bad.md": bad_card, "u/good.md": canary_card(**{"model-name": "good"})})
    (root / "hub" / "assets" / "broken.ms").write_bytes(bytes(broken))
    bad = verdict(root, "u/bad.md")
    assert bad.status == "failed", bad.message
    good = verdict(root, "u/good.md")
    assert good.status == "passed"


def test_statuses_offline_unavailable_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = card_text(**{"model-name": "remote"}).replace("file-format: ckpt", "file-format: mslite")
    inert = card_text(**{"model-name": "inert"})
    root = make_hub(tmp_path, {"u/remote.md": remote, "u/inert.md": inert, "u/c.md": canary_card()})
    monkeypatch.chdir(root)
    doc = json.loads(run_cli("golden", "--offline", "--format", "json", "--store", str(tmp_path / "s")).output)
    status = {Path(c["card"]).name: c["status"] for c in doc["cards"]}
    assert status == {"remote.md": "offline", "inert.md": "skipped", "c.md": "passed"}
    inert_msg = [c["message"] for c in doc["cards"] if c["card"].endswith("inert.md")][0]
    assert "verified by hash and inspection only" in inert_msg
    monkeypatch.setenv("HUBTOOL_RUNTIME_DIR", str(tmp_path / "no-runtimes"))
    result = run_cli("golden", "--format", "json", "--store", str(tmp_path / "s"), "cards/u/c.md")
    [card] = json.loads(result.output)["cards"]
    assert card["status"] == "unavailable" and "runtime unavailable" in card["message"]
    assert result.exit_code == 1


def test_an_asset_that_cannot_be_fetched_is_unavailable_not_failed(tmp_path: Path, server: FaultServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    server.add("/gone.ms", b"", status=404)
    card = canary_card().replace("hub/assets/cifar10-cnn-canary.ms", server.url("/gone.ms"))
    root = make_hub(tmp_path, {"u/c.md": card})
    spec = root / "hub" / "hub.yaml"
    spec.write_text(spec.read_text().replace("allowed-hosts: [download.mindspore.cn]",
                                             "allowed-hosts: ['127.0.0.1']\n  allowed-schemes: [http]\n"
                                             "  allow-private-addresses: ['127.0.0.1']"))
    monkeypatch.chdir(root)
    result = run_cli("golden", "--format", "json", "--store", str(tmp_path / "s"))
    [got] = json.loads(result.output)["cards"]
    assert got["status"] == "unavailable" and "could not be fetched (network): " in got["message"], got
    assert "HTTP 404" in got["message"] and result.exit_code == 1


def test_golden_blocks_are_checked_offline(tmp_path: Path) -> None:
    missing = canary_card(golden="golden:\n  set: no-such-set\n")
    bad_override = canary_card(golden="golden:\n  set: cifar10-canary\n  preprocess:\n    layout: HWC\n")
    root = make_hub(tmp_path, {"u/a.md": missing, "v/b.md": bad_override.replace("model-name: m", "model-name: b")})
    result = run_cli("check", "--format", "json", str(root / "cards"))
    codes = sorted((Path(d["path"]).name, d["code"]) for d in json.loads(result.output)["diagnostics"])
    assert codes == [("a.md", "HUB501"), ("b.md", "HUB502")]


def test_junit_and_text_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_hub(tmp_path, {"u/c.md": canary_card()})
    monkeypatch.chdir(root)
    runtime_env()
    text = run_cli("golden", "--store", str(tmp_path / "s")).output
    assert text.startswith("PASSED") and "20/20 cases passed" in text and "note: " not in text.split("\n")[0]
    junit = run_cli("golden", "--format", "junit", "--store", str(tmp_path / "s")).output
    assert 'tests="1" failures="0"' in junit


# --- imaging ---------------------------------------------------------------------------------


def test_imaging_modes_and_formats(tmp_path: Path) -> None:
    rgb = np.arange(32 * 32 * 3, dtype=np.uint8).reshape(32, 32, 3)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=100)
    Image.fromarray(rgb[..., 0]).convert("L").save(tmp_path / "grey.png")
    rgba = np.dstack([rgb, np.full((32, 32), 0, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.png")
    assert np.array_equal(load_rgb(tmp_path / "a.png"), rgb)
    assert load_rgb(tmp_path / "a.jpg").shape == (32, 32, 3)
    grey = load_rgb(tmp_path / "grey.png")
    assert grey.shape == (32, 32, 3) and np.array_equal(grey[..., 0], grey[..., 2])
    assert not load_rgb(tmp_path / "clear.png").any()  # fully transparent pixels become black


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = Image.fromarray(np.zeros((20, 40, 3), np.uint8))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    img.save(tmp_path / "r.jpg", exif=exif)
    assert load_rgb(tmp_path / "r.jpg").shape == (40, 20, 3)


def test_tensor_steps_in_order() -> None:
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0], rgb[..., 2] = 255, 51
    pre = Preprocess(scale=1 / 255, mean=(0.5, 0.0, 0.0), std=(0.5, 1.0, 0.1), channels="BGR", layout="NCHW")
    x = to_tensor(rgb, pre, (2, 2))
    assert x.shape == (1, 3, 2, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, 0, 0], [2.0, 0.0, 1.0], rtol=1e-6)  # B=(0.2-0)/0.1, G=0, R=(1-0.5)/0.5


def test_undecodable_image_is_a_clear_failure(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"not an image")
    with pytest.raises(ImageError, match="cannot decode image"):
        load_rgb(tmp_path / "x.png")


def special(path: Path, kind: str) -> str:
    """Replace `path` by a FIFO or a link to /dev/zero; what the refusal calls it."""
    path.unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
        return "a FIFO"
    path.symlink_to("/dev/zero")
    return "a character device"


@pytest.mark.parametrize("target", ["reference-outputs", "labels", "image"])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_special_files_in_a_golden_set_are_refused_without_hanging(tmp_path: Path, target: str,
                                                                   kind: str) -> None:
    root = make_hub(tmp_path, {})
    folder = root / "hub" / "golden" / "cifar10-canary"
    spec = folder / "golden.yaml"
    if target == "labels":  # a labels file instead of the inline list
        spec.write_text(spec.read_text().replace("labels: [airplane", "labels: labels.txt\nx: [airplane"))
        spec.write_text("\n".join(line for line in spec.read_text().splitlines() if not line.startswith("x: ")))
        path = folder / "labels.txt"
    elif target == "image":
        path = (folder / ".." / "cifar10" / spec.read_text().split("image: ")[1].split(",")[0]).resolve()
    else:
        path = folder / "reference-outputs.json"
    what = special(path, kind)
    # a link to /dev/zero is refused first for leading out of the golden folder, as a link to any file there is
    refusal = f"is {what}, not a regular file" if kind == "fifo" else "outside the hub's golden folder"
    with pytest.raises(GoldenSetError, match=refusal):
        load_set(root, "cifar10-canary")


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_special_file_as_an_image_is_not_decoded(tmp_path: Path, kind: str) -> None:
    what = special(tmp_path / "x.png", kind)
    with pytest.raises(ImageError, match=f"golden image .*x.png is {what}"):
        load_rgb(tmp_path / "x.png")


@pytest.mark.parametrize(("old", "new"), [
    ("labels: [airplane", "labels: ../../../../../../../../etc/passwd\nx: [airplane"),  # its lines, in the catalog
    ("images: ../cifar10", "images: ../../../.."),
    ("reference-outputs: reference-outputs.json", "reference-outputs: /etc/hostname"),
])
def test_a_golden_set_cannot_name_files_outside_the_golden_folder(tmp_path: Path, old: str, new: str) -> None:
    root = make_hub(tmp_path, {})
    spec = root / "hub" / "golden" / "cifar10-canary" / "golden.yaml"
    text = spec.read_text().replace(old, new)
    spec.write_text("\n".join(line for line in text.splitlines() if not line.startswith("x: ")) + "\n")
    with pytest.raises(GoldenSetError, match="outside the hub's golden folder"):
        load_set(root, "cifar10-canary")


@pytest.mark.parametrize("image", ["../../../../x.png", "/etc/x.png", "a/../../b.png"])
def test_a_case_image_stays_in_the_images_folder(tmp_path: Path, image: str) -> None:
    """Its name is also its thumbnail's path in the catalog: `..` there would write outside it."""
    root = make_hub(tmp_path, {})
    spec = root / "hub" / "golden" / "cifar10-canary" / "golden.yaml"
    first = spec.read_text().split("image: ")[1].split(",")[0]
    spec.write_text(spec.read_text().replace(f"image: {first},", f"image: '{image}',", 1))
    with pytest.raises(GoldenSetError, match="leaves the images folder"):
        load_set(root, "cifar10-canary")


def test_the_input_size_a_model_file_claims_is_bounded_and_a_dynamic_one_needs_the_set_s() -> None:
    from hubtool.golden.imaging import input_size

    nhwc = Preprocess(layout="NHWC")
    assert input_size(nhwc, (1, 32, 32, 3)) == (32, 32)
    assert "larger than golden images are resized to (8192)" in str(input_size(nhwc, (1, 100_000, 100_000, 3)))
    assert "dynamic size" in str(input_size(nhwc, (1, -1, -1, 3)))
    assert input_size(Preprocess(layout="NCHW", size=(224, 224)), (1, 3, -1, -1)) == (224, 224)
