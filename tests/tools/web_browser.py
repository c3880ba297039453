#!/usr/bin/env python3
"""The web console in a real browser (tests/scripts/web_console.sh): Debian's
headless Chromium, driven through chromedriver by Debian's python3-selenium,
does what the people would; plain HTTP requests (http.client) check what a
browser hides: the headers, the cookie's flags, forged and token-less posts.

    web_browser.py BASE CAMPAIGN CVE HOST SHOTS

BASE the console's URL, CAMPAIGN the id of a campaign whose host HOST waits
for its application owner's approval, CVE a CVE that HOST is exposed to,
SHOTS a directory for the screenshots. Users (password "correct horse"):
admin "root", app-owner "own", manager "boss", manager "locky" (locked out
here). Prints "ok - ..." / "not ok - ..." lines; exit 1 when any failed.
"""
import datetime
import http.client
import sys
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import browser_lib
from browser_lib import check

BASE, CAMPAIGN, CVE, HOST, SHOTS = sys.argv[1:6]
PASSWORD = "correct horse"


def request(method, path, body=None, cookie=None, cookies=None):
    u = urllib.parse.urlsplit(BASE)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urllib.parse.urlencode(body)
    if cookie:
        headers["Cookie"] = "pw_session=" + cookie
    if cookies:
        headers["Cookie"] = cookies
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    return r, text


browser = browser_lib.Browser(SHOTS, 1800)
driver, shot, h1 = browser.driver, browser.shot, browser.h1
click_and_wait, submit = browser.click_and_wait, browser.submit


def login(user):
    driver.delete_all_cookies()
    driver.get(BASE + "/login")
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    click_and_wait(driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))


def logout():
    click_and_wait(driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button"))


def form_for(step):
    for f in driver.find_elements(By.CSS_SELECTOR, "form[action='/campaigns/%s/step']" % CAMPAIGN):
        s = f.find_element(By.CSS_SELECTOR, "input[name=step]").get_attribute("value")
        h = f.find_element(By.CSS_SELECTOR, "input[name=host]").get_attribute("value")
        if s == step and h == HOST:
            return f
    return None


def form_login(user, password):
    """POST /login as the login form does: its token in the cookie and the form."""
    r, text = request("GET", "/login")
    cookie = (r.getheader("Set-Cookie") or "").split(";")[0]
    token = text.split('name="csrf" value="')[1].split('"')[0]
    return request("POST", "/login", {"csrf": token, "user": user, "password": password},
                   cookies=cookie)


try:
    # ---- without a session --------------------------------------------
    driver.get(BASE + "/")
    check("a page without a session leads to the login form",
          driver.current_url.endswith("/login") and h1() == "Log in", driver.current_url)
    shot("login")

    # ---- the administrator: fleet, exposure ---------------------------
    login("root")
    check("root logs in and sees the fleet page", h1() == "Fleet", h1())
    body = driver.find_element(By.TAG_NAME, "main").text
    check("the fleet page shows the coverage and the open findings",
          "coverage" in body and "open findings" in body and "hosts kev" in body)
    shot("fleet")
    cookie = driver.get_cookie("pw_session")
    check("the session cookie is HttpOnly and SameSite=Strict",
          cookie and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict", str(cookie))
    check("... and not Secure on plain HTTP on loopback", cookie and not cookie.get("secure"))
    root_session = cookie["value"]
    driver.get(BASE + "/cves")
    q = driver.find_element(By.NAME, "q")
    q.send_keys(CVE)
    click_and_wait(driver.find_element(By.CSS_SELECTOR, "form[action='/cves'] button"))
    main = driver.find_element(By.TAG_NAME, "main").text
    check("the CVE search finds the exposed host", HOST in main and CVE in main, main[:400])
    shot("exposed")
    driver.get(BASE + "/hosts?category=database")
    link = driver.find_elements(By.LINK_TEXT, HOST)
    check("the hosts page, filtered, links the host", len(link) == 1)
    if link:
        click_and_wait(link[0])
        check("the host page", h1() == HOST and "Findings by upgrade" in driver.page_source)
        check("a hostile field value is shown as text, never run",
              "<script>alert(1)</script>" in driver.find_element(By.TAG_NAME, "main").text
              and "<script>alert(1)" not in driver.page_source)
        shot("host")
    # Keyboard: the first Tab reaches the skip link.
    driver.get(BASE + "/")
    driver.find_element(By.TAG_NAME, "body").send_keys("\t")
    active = driver.switch_to.active_element
    check("the first Tab reaches the skip link", active.get_attribute("class") == "skip")
    logout()
    check("logout leads to the login form", h1() == "Log in")
    r, _ = request("GET", "/", cookie=root_session)
    check("the logged-out session opens no page", r.status == 303 and
          r.getheader("Location") == "/login", str(r.status))

    # ---- the application owner declines with a risk assessment --------
    login("own")
    driver.get(BASE + "/actions")
    shot("actions-owner")
    f = form_for("decline")
    check("the owner's actions offer the decline of the host", f is not None)
    own_session = driver.get_cookie("pw_session")["value"]
    src = driver.page_source
    csrf = src.split('name="csrf" value="')[1].split('"')[0]
    check("the owner is offered no sign-off", form_for("sign-off") is None)
    # A forged sign-off (the manager's step) with a valid CSRF token.
    r, text = request("POST", "/campaigns/%s/step" % CAMPAIGN,
                   {"csrf": csrf, "step": "sign-off", "host": HOST, "expires": "2099-01-01"},
                   own_session)
    check("a forged sign-off by the owner is refused with 403", r.status == 403, text[:300])
    r, text = request("POST", "/campaigns/%s/step" % CAMPAIGN,
                   {"step": "approve", "host": HOST}, own_session)
    check("a form without the CSRF token is refused", r.status == 403 and "stale" in text,
          str(r.status))
    r, text = request("POST", "/campaigns/%s/step" % CAMPAIGN,
                   {"csrf": "0" * 64, "step": "approve", "host": HOST}, own_session)
    check("a form with another CSRF token is refused", r.status == 403, str(r.status))
    if f:
        Select(f.find_element(By.NAME, "data_value")).select_by_visible_text("high")
        Select(f.find_element(By.NAME, "threat_frequency")).select_by_visible_text("low")
        Select(f.find_element(By.NAME, "impact")).select_by_visible_text("medium")
        f.find_element(By.NAME, "cost_benefit").send_keys(
            "an outage this week costs more than the exposure")
        f.find_element(By.NAME, "note").send_keys("month-end close <script>alert(1)</script>")
        shot("decline-form")
        submit(f)
        main = driver.find_element(By.TAG_NAME, "main").text
        check("the decline is done and the host waits for the manager",
              "Done: decline" in main and "declined" in main, main[:600])
        shot("declined")
    logout()

    # ---- the manager signs off -----------------------------------------
    login("boss")
    driver.get(BASE + "/actions")
    f = form_for("sign-off")
    check("the manager's actions offer the sign-off", f is not None)
    if f:
        tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
        f.find_element(By.NAME, "expires").send_keys(tomorrow)
        shot("sign-off-form")
        submit(f)
        main = driver.find_element(By.TAG_NAME, "main").text
        check("signed off: the risk is accepted", "Done: sign-off" in main and
              "risk_accepted" in main, main[:600])
        shot("signed-off")
    logout()

    # ---- headers, cookie, lockout over plain HTTP ----------------------
    r, text = request("POST", "/login", {"user": "root", "password": PASSWORD})
    check("a login without the login form's token is refused",
          r.status == 403 and "pw_session" not in (r.getheader("Set-Cookie") or ""),
          str(r.status))
    r, text = form_login("root", PASSWORD)
    sc = r.getheader("Set-Cookie") or ""
    check("POST /login: 303 and a cookie HttpOnly, SameSite=Strict, no Secure on loopback",
          r.status == 303 and "HttpOnly" in sc and "SameSite=Strict" in sc and
          "Secure" not in sc, sc)
    session = sc.split(";")[0].split("=", 1)[1]
    for path in ("/login", "/", "/hosts", "/cves", "/campaigns", "/actions"):
        # Unlike the other pages, /login needs no session.
        r, text = request("GET", path, cookie=None if path == "/login" else session)
        csp = r.getheader("Content-Security-Policy") or ""
        check("GET %s: CSP without inline script, no framing, nosniff, no referrer" % path,
              r.status == 200 and "script-src 'self'" in csp and "unsafe-inline" not in csp
              and "frame-ancestors 'none'" in csp and
              r.getheader("X-Content-Type-Options") == "nosniff" and
              r.getheader("Referrer-Policy") == "no-referrer" and "<script>" not in text,
              "%s %s" % (r.status, csp))
    r, text = request("GET", "/cves?q=" + urllib.parse.quote("../hosts/1"), cookie=session)
    check("the exposure search takes ids only, not paths", r.status == 400, str(r.status))
    r, text = request("GET", "/", cookie=session)
    css = text.split('rel="stylesheet" href="')[1].split('"')[0]
    r, _ = request("GET", css)
    check("the stylesheet has a versioned URL and is cached for long",
          r.status == 200 and "max-age=31536000" in (r.getheader("Cache-Control") or ""), css)
    r, _ = request("POST", "/logout", {}, session)
    check("logout without the CSRF token is refused", r.status == 403)
    for i in range(5):
        r, _ = form_login("locky", "wrong %d" % i)
    r, text = form_login("locky", PASSWORD)
    check("after 5 failures even the right password is refused (lockout)",
          r.status == 401 and "too many failed logins" in text, str(r.status))
    login("locky")
    check("... in the browser too", h1() == "Log in" and
          "too many failed logins" in driver.page_source)
finally:
    driver.quit()

print("%d failed" % browser_lib.failures)
sys.exit(1 if browser_lib.failures else 0)
