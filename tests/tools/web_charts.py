#!/usr/bin/env python3
"""The console's compliance chart and Reports page in a real browser
(tests/scripts/web_charts.sh): Debian's headless Chromium, driven through
chromedriver by Debian's python3-selenium; plain HTTP requests
(http.client) check the headers and the statuses a browser hides.

    web_charts.py BASE EXPECTED SHOTS

BASE the console's URL, EXPECTED a file of the trend's points ("DATE
PERCENT" lines, worked out by the caller from the report's JSON), SHOTS a
directory for the screenshots. Users (password "correct horse"): operator
"op", helpdesk "hd", manager "boss", auditor "aud". Prints "ok - ..." /
"not ok - ..." lines; exit 1 when any failed.
"""
import http.client
import sys
import urllib.parse

from selenium.webdriver.common.by import By

import browser_lib
from browser_lib import check

BASE, EXPECTED, SHOTS = sys.argv[1:4]
PASSWORD = "correct horse"
with open(EXPECTED) as f:
    expected = [(d, float(v)) for d, v in (line.split() for line in f if line.strip())]

browser = browser_lib.Browser(SHOTS, 1800)
driver, shot, h1 = browser.driver, browser.shot, browser.h1


def request(path, cookie):
    u = urllib.parse.urlsplit(BASE)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("GET", path, headers={"Cookie": "pw_session=" + cookie})
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    return r, text


def login(user):
    driver.delete_all_cookies()
    driver.get(BASE + "/login")
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.click_and_wait(driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))


def chart_points():
    """The chart's points as its <title>s say them: (date, value)."""
    out = []
    for t in driver.find_elements(By.CSS_SELECTOR, "main svg.chart circle title"):
        label, value = t.get_attribute("textContent").rsplit(": ", 1)
        out.append((label, float(value.rstrip("%"))))
    return out


def reports_link():
    return driver.find_elements(By.CSS_SELECTOR, "nav a[href='/reports/compliance']")


try:
    for user in ("aud", "boss"):
        login(user)
        check("%s sees the fleet page" % user, h1() == "Fleet", h1())
        svg = driver.find_elements(By.CSS_SELECTOR, "main svg.chart")
        check("%s: the fleet page has the compliance chart" % user, len(svg) == 1)
        title = driver.find_elements(By.CSS_SELECTOR, "main svg.chart > title")
        check("%s: the chart has its <title>" % user,
              title and title[0].get_attribute("textContent") == "Compliance over time")
        pts = chart_points()
        check("%s: the chart has the report's points with hosts in service" % user,
              len(pts) == len(expected) > 0, "%d vs %d" % (len(pts), len(expected)))
        check("%s: the chart's points are the report's dates and percentages" % user,
              len(pts) == len(expected) and
              all(a[0] == b[0] and abs(a[1] - b[1]) < 0.051 for a, b in zip(pts, expected)),
              "%s vs %s" % (pts, expected))
        rows = driver.find_elements(By.CSS_SELECTOR, "main details table tbody tr")
        check("%s: the figures beside it, a row per point" % user, len(rows) == 14)
        check("%s: the menu links the Reports page" % user, len(reports_link()) == 1)
        shot("chart-fleet-" + user)
        browser.click_and_wait(reports_link()[0])
        check("%s: the Reports page opens the compliance report" % user,
              h1() == "Patch compliance report", h1())

    for user in ("op", "hd"):
        login(user)
        check("%s sees the fleet page without the chart and without Reports" % user,
              h1() == "Fleet" and not driver.find_elements(By.CSS_SELECTOR, "svg.chart")
              and not reports_link())
        driver.get(BASE + "/reports/compliance")
        check("%s: the report page is not allowed" % user, h1() == "Not allowed", h1())
        shot("chart-fleet-" + user)

    login("aud")
    session = driver.get_cookie("pw_session")["value"]
    browser.click_and_wait(reports_link()[0])
    check("the report page renders", h1() == "Patch compliance report", h1())
    check("the report has its trend chart",
          len(driver.find_elements(By.CSS_SELECTOR, "svg.chart")) >= 1)
    field = driver.find_element(By.NAME, "as_of")
    field.send_keys("2026-11-01")
    browser.submit(driver.find_element(By.CSS_SELECTOR, "form[action='/reports/compliance']"))
    check("the date field gives the report as of that day",
          "as_of=2026-11-01" in driver.current_url and
          "As of 2026-11-01" in driver.find_element(By.TAG_NAME, "header").text,
          driver.find_element(By.TAG_NAME, "header").text)
    shot("report-compliance")
    r, text = request("/reports/compliance", session)
    csp = r.getheader("Content-Security-Policy") or ""
    check("the report's own CSP: inline style, no script",
          r.status == 200 and "style-src 'unsafe-inline'" in csp and "script" not in csp
          and "default-src 'none'" in csp, csp)
    check("... and the console's other headers",
          r.getheader("X-Frame-Options") == "DENY" and
          r.getheader("X-Content-Type-Options") == "nosniff" and
          r.getheader("Cache-Control") == "no-store")
    r, text = request("/", session)
    check("the fleet page keeps the console's CSP",
          "script-src 'self'" in (r.getheader("Content-Security-Policy") or ""))
    r, text = request("/reports/compliance.csv", session)
    lines = text.splitlines()
    check("the CSV link: the hosts as CSV",
          r.status == 200 and r.getheader("Content-Type").startswith("text/csv") and
          lines and lines[0].startswith("host,owner_group,category,") and len(lines) == 4,
          text[:300])
    r, text = request("/reports/compliance?as_of=2026-13-45", session)
    check("a bad date: 400 with what is wrong", r.status == 400 and "as_of" in text,
          "%d %s" % (r.status, text[-400:]))
    driver.get(BASE + "/reports/compliance?as_of=2026-13-45")
    check("... shown as the console's error page with the date form",
          driver.find_elements(By.CSS_SELECTOR, "p.error") and
          driver.find_elements(By.NAME, "as_of"))
    shot("report-bad-date")
finally:
    driver.quit()
sys.exit(1 if browser_lib.failures else 0)
