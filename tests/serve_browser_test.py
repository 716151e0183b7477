#!/usr/bin/python3
"""End-to-end test of `memes serve` in a real browser: Debian's chromium, headless, driven by
chromium-driver through python3-selenium. Makes a store with memes_store_fill, opens the page,
relabels by click and by key, undoes, drops, opens the similar-items view, accepts a review
suggestion, repacks; then checks the catalog (`memes label export`) and the repacked shards
(`memes verify`, dataset.json). Every wait is on a condition, never a fixed sleep.

Usage: serve_browser_test.py --memes BUILD/memes --fill BUILD/tests/memes_store_fill
                             [--screenshot docs/serve.png]
Exit 0 when every check passed; 77 (ctest's skip code) when chromium or selenium is missing.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    print("python3-selenium is not installed (scripts/packages.txt lists it)")
    sys.exit(77)

WAIT_S = 20  # the longest any one condition may take before the test fails


def blob_of(item):
    import hashlib
    return hashlib.sha256(f"memes-fixture-item seed=0 item={item}".encode()).hexdigest()


class Catalog:
    """The store's labels as `memes label export` reports them (another process's view)."""

    def __init__(self, memes, store, tmp):
        self.memes, self.store, self.csv = memes, store, os.path.join(tmp, "export.csv")

    def rows(self):
        subprocess.run([self.memes, "label", "--store", self.store, "export", self.csv],
                       check=True, capture_output=True)
        with open(self.csv, newline="", encoding="utf-8") as f:
            return {row["hash"]: row for row in csv.DictReader(f)}

    def wait(self, what, predicate):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            rows = self.rows()
            if predicate(rows):
                return rows
        raise AssertionError(f"the catalog never showed: {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--memes", required=True)
    parser.add_argument("--fill", required=True)
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (os.path.exists(chromium) and os.path.exists(driver_path)):
        print("chromium or chromium-driver is not installed (scripts/packages.txt lists them)")
        return 77

    tmp = tempfile.mkdtemp(prefix="memes-serve-browser-")
    server = driver = None
    try:
        store = os.path.join(tmp, "store")
        subprocess.run([args.fill, store, "--items", "24", "--classes", "4", "--max-frames", "3",
                        "--group-size", "2"], check=True)
        os.makedirs(os.path.join(tmp, "review"))
        worst, second = blob_of(9), blob_of(14)  # class1 and class2 in the fixture
        with open(os.path.join(tmp, "review", "suspects.csv"), "w") as f:
            f.write("hash,label,suggested,score,url,action\n")
            f.write(f"{worst},class1,class3,0.01,http://fixture.test/img/9.gif,\n")
            f.write(f"{second},class2,class0,0.30,http://fixture.test/img/14.gif,\n")
        catalog = Catalog(args.memes, store, tmp)

        server = subprocess.Popen([args.memes, "serve", "--store", store, "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        url = None
        for line in server.stdout:  # the URL line comes once the server listens
            if "/?token=" in line:
                url = line.split("open ", 1)[1].strip()
                break
        assert url, "memes serve printed no URL"

        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,900"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        wait = WebDriverWait(driver, WAIT_S, ignored_exceptions=[StaleElementReferenceException])
        driver.get(url)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        assert "token" not in driver.current_url, "the token stays in the address bar"
        tiles = lambda: driver.find_elements(By.CSS_SELECTOR, "#grid .tile")
        wait.until(lambda d: len(tiles()) == 24)

        def tile(hash_):
            found = driver.find_elements(By.CSS_SELECTOR, f'#grid .tile[data-hash="{hash_}"]')
            return found[0] if found else None

        def label_of(hash_):
            # Read in one script: the grid is re-rendered after every change, so an element
            # found in one call may be gone by the next.
            return driver.execute_script(
                "const t = document.querySelector(`#grid .tile[data-hash='${arguments[0]}'] "
                ".tile-label`); return t ? t.textContent : null;", hash_)

        body = driver.find_element(By.TAG_NAME, "body")

        # 1. Relabel by click: click the first tile, choose a class in the picker.
        first = tiles()[0].get_attribute("data-hash")
        tiles()[0].click()
        wait.until(lambda d: d.find_element(By.ID, "item").get_attribute("data-hash") == first)
        Select(driver.find_element(By.ID, "picker")).select_by_value("class3")
        wait.until(lambda d: label_of(first) == "class3")
        catalog.wait("the first item labelled class3 by click", lambda r: r[first]["label"] == "class3")

        # 2. Relabel by key: arrow right to the second tile; "3" is the third class (class2),
        # "2" the second (for an item already in class2).
        second_tile = tiles()[1].get_attribute("data-hash")
        original = label_of(second_tile)
        key, wanted = ("2", "class1") if original == "class2" else ("3", "class2")
        driver.find_element(By.ID, "close-item").click()
        body.send_keys(Keys.ARROW_RIGHT)
        wait.until(lambda d: "cursor" in tile(second_tile).get_attribute("class"))
        body.send_keys(key)
        wait.until(lambda d: label_of(second_tile) == wanted)
        catalog.wait("the second item relabelled by key", lambda r: r[second_tile]["label"] == wanted)

        # 3. Undo puts it back.
        body.send_keys("u")
        wait.until(lambda d: label_of(second_tile) == original)
        catalog.wait("undo restored the label", lambda r: r[second_tile]["label"] == original)

        # 4. Drop: the grid shows kept items, so the tile leaves it; the catalog says dropped.
        body.send_keys("d")
        wait.until(lambda d: tile(second_tile) is None)
        catalog.wait("the second item dropped", lambda r: r[second_tile]["dropped"] == "1")

        # 5. Similar items of the cursor's item: its near-duplicate first, at distance 0.
        cursor_hash = driver.find_element(By.CSS_SELECTOR, "#grid .tile.cursor").get_attribute(
            "data-hash")
        body.send_keys("s")
        wait.until(lambda d: "similar" in d.find_element(By.ID, "view-title").text)
        wait.until(lambda d: len(tiles()) > 0)
        nearest = tiles()[0]
        assert nearest.get_attribute("data-hash") != cursor_hash
        assert "d0" in nearest.find_element(By.CLASS_NAME, "tile-label").text

        # 6. Review queue, worst first; "a" accepts the suggestion.
        driver.find_element(By.ID, "tab-review").click()
        wait.until(lambda d: "review" in d.find_element(By.ID, "view-title").text)
        wait.until(lambda d: len(tiles()) == 2 and tiles()[0].get_attribute("data-hash") == worst)
        body.send_keys("a")
        wait.until(lambda d: label_of(worst) == "class3")
        catalog.wait("review suggestion accepted", lambda r: r[worst]["label"] == "class3")

        # 7. Repack with progress, then the per-class table.
        driver.find_element(By.ID, "repack").click()
        wait.until(lambda d: d.find_element(By.ID, "pack-state").get_attribute("data-state")
                   in ("done", "failed"))
        state = driver.find_element(By.ID, "pack-state")
        assert state.get_attribute("data-state") == "done", state.text
        assert "class3" in driver.find_element(By.ID, "pack-table").text
        shards = os.path.join(store, "shards")
        subprocess.run([args.memes, "verify", shards], check=True, capture_output=True)
        with open(os.path.join(shards, "dataset.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        rows = catalog.rows()
        expected = sum(1 for r in rows.values() if r["label"] == "class3" and r["dropped"] == "0")
        items = manifest["items"]
        got = items["train"].get("class3", 0) + items["test"].get("class3", 0)
        assert got == expected, (got, expected, items)

        # The screenshot for the README: the grid of one class, an item open.
        if args.screenshot:
            driver.find_element(By.ID, "tab-grid").click()
            wait.until(lambda d: len(tiles()) > 0 and "review" not in
                       d.find_element(By.ID, "view-title").text)
            tiles()[2].click()
            wait.until(lambda d: d.find_element(By.ID, "item").get_attribute("data-hash"))
            driver.save_screenshot(args.screenshot)
        print("serve browser test: all checks passed")
        return 0
    finally:
        if driver:
            driver.quit()
        if server:
            server.terminate()
            server.wait(timeout=WAIT_S)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
