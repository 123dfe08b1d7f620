"""The benchmark's login journey with Selenium (Python) and Debian's chromedriver: the driver
and its browser are kept; each run clears cookies first, as a Selenium-based prober would.
Waits poll every 25 ms, as journeyprobe's do (Selenium's default is 500 ms). Prints one JSON
object."""

import json
import resource
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

base, password, n = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 10
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--no-first-run"]:
    opts.add_argument(a)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
durations, failures = [], 0
try:
    for _ in range(n):
        t0 = time.perf_counter()
        try:
            driver.delete_all_cookies()
            driver.get(f"{base}/login")
            driver.find_element(By.CSS_SELECTOR, "#username").send_keys("bench@example.com")
            driver.find_element(By.CSS_SELECTOR, "#password").send_keys(password)
            driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            WebDriverWait(driver, 10, poll_frequency=0.025).until(ec.url_matches(r"/dashboard$"))
            text = WebDriverWait(driver, 10, poll_frequency=0.025).until(
                ec.presence_of_element_located((By.CSS_SELECTOR, "#welcome"))).text
            if "Welcome" not in text:
                failures += 1
        except Exception:  # a failed run is counted, the benchmark goes on
            failures += 1
        durations.append((time.perf_counter() - t0) * 1000)
finally:
    driver.quit()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "tool": "selenium",
    "durations_ms": durations,
    "failures": failures,
    "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000,
    "max_rss_kb": usage.ru_maxrss,
}))
