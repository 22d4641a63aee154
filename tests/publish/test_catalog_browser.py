"""The catalog in a real browser (chromium): no console errors, no network, search and filters work,
the gallery shows what the verdict says, a hostile card stays inert."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from browser import browser, requested
from test_catalog import published  # noqa: F401 - the catalog hub with a failed case and a hostile card

from helpers import REPO, mindspore_env, run_cli, runtime_env


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's hub (what `make demo` publishes), published into a temp folder."""
    runtime_env(), mindspore_env()
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "hub", root / "hub")
    shutil.copytree(REPO / "cards", root / "cards")
    result = run_cli("publish", "--to", str(root / "dist" / "hub"), "--store", str(root / "store"),
                     "--config", str(root / "hub" / "hub.yaml"), str(root / "cards"))
    assert result.exit_code == 1, result.output  # the seed is held back: its asset is on the internet
    return root / "dist" / "hub"


def visible_rows(driver: object) -> list[str]:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, "#models tbody tr")  # type: ignore[attr-defined]
    return [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows if r.is_displayed()]


def test_the_demo_catalog_loads_with_no_console_errors_and_no_network(demo_hub: Path) -> None:
    with browser() as driver:
        for page in ("index.html", "run.html", "cards/hubtool/cifar10-cnn-canary@7.4.0.html",
                     "cards/hubtool/cifar10-cnn-canary-ckpt@7.4.0.html"):
            driver.get((demo_hub / page).as_uri())  # type: ignore[attr-defined]
            assert driver.get_log("browser") == [], page  # type: ignore[attr-defined]
            urls = requested(driver)
            assert urls and all(u.startswith(demo_hub.as_uri() + "/") for u in urls), urls


def test_search_and_each_filter_narrow_the_table(demo_hub: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with browser() as driver:
        driver.get((demo_hub / "index.html").as_uri())  # type: ignore[attr-defined]
        everything = ["cifar10-cnn-canary", "cifar10-cnn-canary-ckpt", "cifar10-cnn-canary-mindir"]
        assert sorted(visible_rows(driver)) == everything
        search = driver.find_element(By.ID, "search")  # type: ignore[attr-defined]
        search.send_keys("mindir")
        assert visible_rows(driver) == ["cifar10-cnn-canary-mindir"]
        assert driver.find_element(By.ID, "shown").text == "1 of 3 shown"  # type: ignore[attr-defined]
        search.clear()
        search.send_keys(" ")  # an input event with nothing to search for
        assert sorted(visible_rows(driver)) == everything
        fmt = Select(driver.find_element(By.CSS_SELECTOR, "select[data-filter=formats]"))  # type: ignore[attr-defined]
        fmt.select_by_visible_text("ckpt")
        assert visible_rows(driver) == ["cifar10-cnn-canary-ckpt"]
        fmt.select_by_visible_text("all")
        assert sorted(visible_rows(driver)) == everything


def test_each_filter_narrows_the_table_and_the_headers_sort_it(published: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with browser() as driver:
        driver.get((published / "index.html").as_uri())  # type: ignore[attr-defined]
        everything = ["canary", "hostile", "one-wrong", "remote"]
        assert sorted(visible_rows(driver)) == everything
        for key, value, expect in (("module_type", "cv-detection", ["hostile"]),
                                   ("dataset", "imagenet", ["hostile"]), ("formats", "ckpt", ["remote"]),
                                   ("status", "unverified", ["remote"]), ("status", "verified",
                                                                          ["canary", "hostile", "one-wrong"])):
            select = Select(driver.find_element(By.CSS_SELECTOR, f"select[data-filter={key}]"))  # type: ignore[attr-defined]
            select.select_by_visible_text(value)
            assert sorted(visible_rows(driver)) == expect, (key, value)
            select.select_by_visible_text("all")
        header = driver.find_elements(By.CSS_SELECTOR, "#models th")[1]  # type: ignore[attr-defined]
        header.click()
        assert visible_rows(driver) == everything
        header.click()
        assert visible_rows(driver) == everything[::-1]


def test_a_card_page_shows_20_gallery_items_with_the_right_labels(demo_hub: Path) -> None:
    from selenium.webdriver.common.by import By

    with browser() as driver:
        driver.get((demo_hub / "cards/hubtool/cifar10-cnn-canary-mindir@7.4.0.html").as_uri())  # type: ignore[attr-defined]
        items = driver.find_elements(By.CSS_SELECTOR, "ol.gallery li.case")  # type: ignore[attr-defined]
        assert len(items) == 20
        labels = {i.get_attribute("data-image"): i.find_element(By.CSS_SELECTOR, ".expected").text for i in items}
        assert labels["cifar10_00_3.png"] == "cat" and labels["cifar10_19_6.png"] == "frog"
        images = driver.find_elements(By.CSS_SELECTOR, "ol.gallery img")  # type: ignore[attr-defined]
        assert all(driver.execute_script("return arguments[0].naturalWidth", img) == 96 for img in images)  # type: ignore[attr-defined]


def test_a_failed_case_is_shown_as_failed(published: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    with browser() as driver:
        driver.get((published / "cards/b/one-wrong@1.0.html").as_uri())  # type: ignore[attr-defined]
        first = driver.find_elements(By.CSS_SELECTOR, "ol.gallery li.case")[0]  # type: ignore[attr-defined]
        assert "failed" in first.get_attribute("class").split()
        assert first.find_element(By.CSS_SELECTOR, ".verdict").text == "FAILED"
        assert first.value_of_css_property("border-top-color") == "rgba(163, 32, 32, 1)"  # the red frame


def test_a_hostile_card_body_stays_inert_in_the_browser(published: Path) -> None:  # noqa: F811
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    with browser() as driver:
        driver.get((published / "cards/c/hostile@1.0.html").as_uri())  # type: ignore[attr-defined]
        with pytest.raises(NoAlertPresentException):
            _ = driver.switch_to.alert.text  # type: ignore[attr-defined]  # nothing ran an alert()
        body = driver.find_element(By.CSS_SELECTOR, "div.body")  # type: ignore[attr-defined]
        assert body.find_elements(By.TAG_NAME, "script") == [] and body.find_elements(By.TAG_NAME, "img") == []
        hrefs = [a.get_attribute("href") for a in body.find_elements(By.TAG_NAME, "a")]
        assert hrefs == ["https://example.org/docs", "https://tracker.example/pixel.png"]
        assert "<script>alert('card')</script>" in body.text
        assert driver.get_log("browser") == []  # type: ignore[attr-defined]
        assert all(u.startswith("file://") for u in requested(driver))
