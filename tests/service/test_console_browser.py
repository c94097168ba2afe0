"""The admin console in a real headless browser: Debian's chromium driven by Selenium (through
chromedriver) against the running test service. Screenshots of every page are saved under
``reports/console-screenshots/`` (git-ignored) for a human to look at.

Where chromium or chromedriver is missing these tests skip with the apt-get command; the same
flows are covered over plain HTTP in ``test_console.py``, which always runs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.conftest import AGENCY
from tests.service.test_replies import NORMATIF, REPORT

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "datasets" / "demo" / "reports.csv"
SHOTS = ROOT / "reports" / "console-screenshots"
APT = "apt-get update && apt-get install -y chromium chromium-driver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip(f"no chromium/chromedriver on this machine: install them with `{APT}`")
    return chromium, driver


@pytest.fixture()
def browser(tmp_path) -> Iterator:
    chromium, driver_path = _browser_paths()
    from selenium import webdriver  # locked in requirements/dev.txt: a missing one is a failure
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.add_argument("--window-size=1280,1000")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(10)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver, name: str, width: int = 1280) -> None:
    """A screenshot of the whole page at ``width`` px."""
    driver.set_window_size(width, 1000)
    driver.execute_script("window.scrollTo(0, 0)")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height + 40, 600), 2400))
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def sign_in(driver, live, key: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{live.url}/console/masuk")
    field = driver.find_element(By.ID, "api_key")
    field.clear()
    field.send_keys(key)
    driver.find_element(By.ID, "masuk").click()
    wait_for_new_page(driver, field)


def wait_for_new_page(driver, old_element) -> None:
    """A click on a submit button returns before the next page is there: wait for it."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_driver) -> bool:
        # staleness_of in selenium 4 catches only StaleElementReferenceException; chromium 156
        # answers a node of the page being replaced with "unknown error: Node with given id does
        # not belong to the document" (CI, stop 14): that is the same fact, the old page is gone.
        try:
            old_element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    WebDriverWait(driver, 30).until(gone)
    # while the new page loads, a script or a lookup may meet the same transient error: retry
    loading = WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,))
    loading.until(lambda d: d.execute_script("return document.readyState") == "complete")
    loading.until(expected_conditions.presence_of_element_located(("css selector", "main h1")))


def test_wrong_key_is_refused(browser, live):
    from selenium.webdriver.common.by import By

    browser.get(f"{live.url}/console/masuk")
    shot(browser, "01-masuk")
    sign_in(browser, live, "lt_salahsekali_0123456789abcdef0123")
    assert "Kunci API salah" in browser.find_element(By.ID, "galat").text
    assert browser.current_url.endswith("/console/masuk")
    assert browser.get_cookie("lapor_console") is None
    shot(browser, "02-masuk-kunci-salah")


def test_admin_pusat_uploads_accepts_and_overrides(browser, live):
    from selenium.webdriver.common.by import By

    sign_in(browser, live, live.keys["pusat"])
    assert browser.current_url.endswith("/console/antrean")
    cookie = browser.get_cookie("lapor_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    nav = browser.find_element(By.CSS_SELECTOR, "nav").text
    assert "Antrean disposisi" in nav and "Cek tindak lanjut" not in nav
    browser.find_element(By.ID, "berkas").send_keys(str(DEMO))
    button = browser.find_element(By.ID, "unggah")
    button.click()
    wait_for_new_page(browser, button)
    rows = browser.find_elements(By.CSS_SELECTOR, "#antrean tbody tr")
    assert len(rows) == 502
    assert browser.find_elements(By.CSS_SELECTOR, "tr.abstain .badge.warn"), "abstain marks"
    first_id = rows[0].find_element(By.CSS_SELECTOR, "small").text
    second_id = rows[1].find_element(By.CSS_SELECTOR, "small").text
    top1 = rows[0].find_element(By.CSS_SELECTOR, "ol.saran-unit li .nama").text
    accept = rows[0].find_element(By.CSS_SELECTOR, "button.accept")
    accept.click()
    wait_for_new_page(browser, accept)
    assert "Diterima: " + top1 in browser.find_element(By.ID, "baris-0").text

    row = browser.find_element(By.ID, "baris-1")
    suggested = row.find_element(By.CSS_SELECTOR, "ol.saran-unit li .nama").text
    target = (
        "Dinas Perhubungan" if not suggested.startswith("Dinas Perhubungan") else "Dinas Kesehatan"
    )
    override = row.find_element(By.CSS_SELECTOR, "button.override")
    assert not override.is_enabled(), "the override button waits for a name"
    row.find_element(By.CSS_SELECTOR, "input[name=nama]").send_keys(target)
    assert override.is_enabled()
    override.click()
    wait_for_new_page(browser, override)
    assert "Dialihkan: " + target in browser.find_element(By.ID, "baris-1").text
    shot(browser, "03-antrean-disposisi")
    shot(browser, "04-antrean-disposisi-ponsel", width=390)

    # both decisions are in the feedback export
    with live.client() as client:
        text = client.get("/v1/feedback/export", headers=live.headers("ds")).text
    rows_out = {r["report_id"]: r for r in map(json.loads, text.splitlines())}
    assert rows_out[first_id]["decision"] == "accepted" and rows_out[first_id]["agency"] == top1
    assert rows_out[second_id]["decision"] == "overridden"
    assert rows_out[second_id]["agency"] == target

    out = browser.find_element(By.ID, "keluar")
    out.click()
    wait_for_new_page(browser, out)
    assert browser.current_url.endswith("/console/masuk")
    browser.get(f"{live.url}/console/antrean")
    assert browser.current_url.endswith("/console/masuk"), "signed out"


def test_admin_pusat_decides_both_levels(browser, live_two_levels, tmp_path):
    """A service with a disposition model and Surabaya's unit model: both levels in the queue,
    labelled; accepting the disposition and overriding the unit store both, with their level."""
    from selenium.webdriver.common.by import By

    from tests.service.test_console_two_levels import SURABAYA, export_csv
    from tests.service.test_two_levels import LAMPU, SAMPIT

    live = live_two_levels
    export = tmp_path / "ekspor-surabaya.csv"
    reports = [("B-1", "Lampu mati", LAMPU), ("B-2", "Klaim ditolak", SAMPIT)]
    export.write_bytes(export_csv(SURABAYA, reports))
    sign_in(browser, live, live.keys["pusat"])
    browser.find_element(By.ID, "berkas").send_keys(str(export))
    button = browser.find_element(By.ID, "unggah")
    button.click()
    wait_for_new_page(browser, button)
    assert browser.find_element(By.ID, "kol-disposisi").text.startswith("Disposisi instansi")
    assert browser.find_element(By.ID, "kol-unit").text.startswith("Unit")
    row = browser.find_element(By.ID, "baris-0")
    instansi = row.find_element(By.CSS_SELECTOR, "ol.saran-disposisi li .nama").text
    assert instansi == "Dinas Perhubungan Kota Semarang"
    assert "Kota Semarang" in row.find_element(By.CSS_SELECTOR, "ol.saran-disposisi small").text
    accept = row.find_element(By.CSS_SELECTOR, "td.disposisi button.accept")
    accept.click()
    wait_for_new_page(browser, accept)
    row = browser.find_element(By.ID, "baris-0")
    assert "Diterima: " + instansi in row.find_element(By.CSS_SELECTOR, "td.disposisi").text
    unit = row.find_element(By.CSS_SELECTOR, "td.unit")
    unit.find_element(By.CSS_SELECTOR, "input[name=nama]").send_keys("Dinas Perhubungan Surabaya")
    override = unit.find_element(By.CSS_SELECTOR, "button.override")
    override.click()
    wait_for_new_page(browser, override)
    unit = browser.find_element(By.CSS_SELECTOR, "#baris-0 td.unit")
    assert "Dialihkan: Dinas Perhubungan Surabaya" in unit.text
    shot(browser, "10-antrean-dua-tingkat")
    shot(browser, "11-antrean-dua-tingkat-ponsel", width=390)
    with live.client() as client:
        text = client.get("/v1/feedback/export", headers=live.headers("ds")).text
    mine = [r for r in map(json.loads, text.splitlines()) if r["report_id"] == "B-1"]
    assert {(r["level"], r["decision"], r["agency"]) for r in mine} == {
        ("disposition", "accepted", instansi),
        ("unit", "overridden", "Dinas Perhubungan Surabaya"),
    }


def test_admin_instansi_checks_a_boilerplate_draft(browser, live):
    from selenium.webdriver.common.by import By

    sign_in(browser, live, live.keys["instansi"])
    assert browser.current_url.endswith("/console/cek")
    assert browser.find_element(By.ID, "instansi").get_attribute("value") == AGENCY
    browser.find_element(By.ID, "laporan").send_keys(REPORT)
    browser.find_element(By.ID, "tanggapan").send_keys(NORMATIF)
    check = browser.find_element(By.ID, "cek")
    check.click()
    wait_for_new_page(browser, check)
    assert browser.find_element(By.ID, "vonis").text == "Normatif"
    marks = browser.find_elements(By.CSS_SELECTOR, "#draf mark")
    assert marks and all(m.text.strip() for m in marks)
    assert browser.find_elements(By.CSS_SELECTOR, "#alasan li")
    shot(browser, "05-cek-tindak-lanjut")
    shot(browser, "06-cek-tindak-lanjut-ponsel", width=390)


def test_admin_instansi_cannot_open_the_queue(browser, live):
    from selenium.webdriver.common.by import By

    sign_in(browser, live, live.keys["instansi"])
    assert "Antrean disposisi" not in browser.find_element(By.CSS_SELECTOR, "nav").text
    browser.get(f"{live.url}/console/antrean")
    assert "tidak dapat membuka" in browser.find_element(By.ID, "ditolak").text
    assert not browser.find_elements(By.ID, "form-unggah")
    shot(browser, "07-antrean-ditolak")


def test_model_page(browser, live):
    from selenium.webdriver.common.by import By

    sign_in(browser, live, live.keys["ds"])
    assert browser.current_url.endswith("/console/monev"), "the first page a data scientist may use"
    browser.find_element(By.LINK_TEXT, "Model").click()
    text = browser.find_element(By.ID, "model").text
    assert "report-type" in text and "reply-quality" in text
    assert browser.find_element(By.ID, "unduh-umpan-balik").is_displayed()
    shot(browser, "08-model")


def test_monev_page(browser, live):
    from selenium.webdriver.common.by import By

    from tests.service.test_replies import SUBSTANTIF

    rows = [{"agency": AGENCY, "reply_text": t, "report_id": "b1"} for t in (NORMATIF, SUBSTANTIF)]
    with live.client() as c:
        r = c.post("/v1/replies", json={"replies": rows}, headers=live.headers("instansi"))
        assert r.status_code == 201
    sign_in(browser, live, live.keys["instansi"])
    browser.find_element(By.LINK_TEXT, "Monev").click()
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
    assert browser.find_element(By.ID, "monev").text
    assert browser.find_element(By.ID, "instansi").get_attribute("readonly")
    shot(browser, "09-monev")
