#!/usr/bin/env python3
"""The web console in a real browser (tests/scripts/web_console.sh): Debian's
headless Chromium, driven through chromedriver by Debian's python3-selenium,
does what the people would; plain HTTP requests (http.client) check what a
browser hides: the headers, the cookie's flags, forged and token-less posts.

    web_browser.py BASE CAMPAIGN CVE HOST SHOTS HOST_ID OTHER

BASE the console's URL, CAMPAIGN the id of a campaign whose host HOST (id
HOST_ID, application owner "own") waits for its application owner's
approval, CVE a CVE that HOST is exposed to, SHOTS a directory for the
screenshots, OTHER a host of another campaign waiting for the approval of
another application owner. Users (password "correct horse"): admin "root",
operator "op", app-owner "own", manager "boss", manager "locky" (locked out
here), auditor "aud". Prints "ok - ..." / "not ok - ..." lines; exit 1 when
any failed.
"""
import datetime
import http.client
import sys
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import browser_lib
from browser_lib import check

BASE, CAMPAIGN, CVE, HOST, SHOTS, HOST_ID, OTHER = sys.argv[1:8]
PASSWORD = "correct horse"


def request(method, path, body=None, cookie=None, cookies=None, bearer=None):
    u = urllib.parse.urlsplit(BASE)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {}
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
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


def main_text():
    return driver.find_element(By.TAG_NAME, "main").text


def session_and_csrf():
    src = driver.page_source
    return (driver.get_cookie("pw_session")["value"],
            src.split('name="csrf" value="')[1].split('"')[0])


def submit_form(action):
    """Submits the page's form posting to `action` by its submit button."""
    submit(driver.find_element(By.CSS_SELECTOR, "form[action='%s']" % action))


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
        check("a hostile field value is shown as a value, never run",
              driver.find_element(By.ID, "f-location").get_attribute("value") ==
              "<script>alert(1)</script>" and "<script>alert(1)" not in driver.page_source)
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
    others = [f for f in driver.find_elements(By.CSS_SELECTOR, "input[name=host]")
              if f.get_attribute("value") == OTHER]
    check("the owner's actions leave out another owner's application (%s)" % OTHER,
          not others)
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

    # ---- the operator: a campaign from the hosts page, a host's fields --
    login("op")
    driver.get(BASE + "/hosts?category=web")
    click_and_wait(driver.find_element(By.LINK_TEXT, "Create a campaign for these hosts"))
    check("the hosts page leads to a new campaign with its filter",
          h1() == "New campaign" and
          driver.find_element(By.ID, "c-hosts").get_attribute("value") == "category=web",
          driver.current_url)
    driver.find_element(By.ID, "c-name").send_keys("web December")
    driver.find_element(By.ID, "c-soak").send_keys("30m")
    shot("campaign-new")
    check("an operator is offered no emergency campaign",
          not driver.find_elements(By.ID, "c-emergency"))
    submit_form("/campaigns/new")
    main = main_text()
    check("the dry run lists the hosts and stores nothing",
          "Dry run" in main and "web-01" in main and "Nothing is stored yet" in main and
          "web December" not in request("GET", "/campaigns",
                                        cookie=driver.get_cookie("pw_session")["value"])[1],
          main[:500])
    shot("campaign-dry-run")
    confirm = [f for f in driver.find_elements(By.CSS_SELECTOR, "form[action='/campaigns/new']")
               if f.find_elements(By.CSS_SELECTOR, "input[name=confirm]")]
    check("the dry run offers its confirmation", len(confirm) == 1)
    if confirm:
        submit(confirm[0])
        main = main_text()
        check("confirmed: the campaign is created", h1() == "web December" and
              "Done: created" in main and "web-01" in main, main[:500])
        shot("campaign-created")
    driver.get(BASE + "/hosts/" + HOST_ID)
    for field, value in (("ticket", "CHG-4711"), ("maintenance_window", "Sun 01:00-04:00")):
        e = driver.find_element(By.ID, "f-" + field)
        e.clear()
        e.send_keys(value)
    shot("host-edit")
    submit_form("/hosts/" + HOST_ID)
    check("the host's fields are saved", "Done: saved" in main_text() and
          driver.find_element(By.ID, "f-ticket").get_attribute("value") == "CHG-4711")
    check("the host page lists its tickets",
          driver.find_elements(By.CSS_SELECTOR, "main a[href^='/tickets/']"))
    logout()

    # ---- the auditor: tickets and the audit log; no forms --------------
    login("aud")
    nav = driver.find_element(By.TAG_NAME, "nav").text
    check("the auditor's menu has the audit log, no administration",
          "Audit log" in nav and "Administration" not in nav, nav)
    driver.get(BASE + "/hosts/" + HOST_ID)
    check("the auditor reads the host's fields but gets no form",
          not driver.find_elements(By.ID, "f-ticket") and "CHG-4711" in main_text())
    aud_session, csrf = session_and_csrf()
    for path, form in (("/hosts/" + HOST_ID, {"ticket": "forged"}),
                       ("/admin/users", {"name": "mallory", "role": "admin"}),
                       ("/campaigns/new", {"name": "forged", "hosts": "all", "confirm": "yes"})):
        form["csrf"] = csrf
        r, text = request("POST", path, form, aud_session)
        check("a forged POST %s by the auditor is refused with 403" % path, r.status == 403,
              "%s %s" % (r.status, text[:200]))
    r, _ = request("GET", "/admin", cookie=aud_session)
    check("the administration page is refused to the auditor", r.status == 403, str(r.status))
    driver.get(BASE + "/tickets")
    shot("tickets")
    rows = [tr for tr in driver.find_elements(By.CSS_SELECTOR, "tbody tr") if HOST in tr.text]
    check("the tickets page lists the host's ticket", rows)
    if rows:
        click_and_wait(rows[0].find_element(By.TAG_NAME, "a"))
        main = main_text()
        check("the ticket's log shows the decline by the owner and the sign-off by the manager",
              h1().startswith("Ticket") and "Log" in main and "user:own" in main and
              "user:boss" in main, main[:600])
        shot("ticket")
    driver.get(BASE + "/audit")
    main = main_text()
    check("the audit log shows the verification and the events",
          "Verified: the hash chain is intact" in main and "session.create" in main, main[:400])
    shot("audit")
    logout()

    # ---- the administrator: users and tokens ----------------------------
    login("root")
    driver.get(BASE + "/admin")
    shot("admin")
    driver.find_element(By.ID, "u-name").send_keys("newbie")
    Select(driver.find_element(By.ID, "u-role")).select_by_visible_text("helpdesk")
    driver.find_element(By.ID, "u-password").send_keys(PASSWORD)
    submit_form("/admin/users")
    check("the admin adds a user", "Done: the user is added" in main_text() and
          "newbie" in driver.find_element(By.CSS_SELECTOR, "table").text)
    Select(driver.find_element(By.ID, "t-user")).select_by_visible_text("newbie")
    driver.find_element(By.ID, "t-label").send_keys("nightly report")
    submit_form("/admin/tokens")
    secret = driver.find_elements(By.ID, "secret")
    token = secret[0].text if secret else ""
    check("the new API token is shown once", token.startswith("pwt_"), token)
    shot("admin-token")
    r, _ = request("GET", "/api/v1/me", bearer=token)
    check("the token works", r.status == 200, str(r.status))
    driver.get(BASE + "/admin")
    check("the token is shown only once", token not in driver.page_source)
    click_and_wait(driver.find_element(By.CSS_SELECTOR,
                                       "button[aria-label='Revoke nightly report']"))
    check("the admin revokes it", "Done: the token is revoked" in main_text())
    r, _ = request("GET", "/api/v1/me", bearer=token)
    check("the revoked token no longer works", r.status == 401, str(r.status))
    driver.find_element(By.ID, "e-label").send_keys("rack 12")
    e = driver.find_element(By.ID, "e-uses")
    e.clear()
    e.send_keys("3")
    submit_form("/admin/enroll-tokens")
    secret = driver.find_elements(By.ID, "secret")
    check("the new enrollment token is shown once",
          secret and secret[0].text.startswith("pwe_"))
    click_and_wait(driver.find_element(By.CSS_SELECTOR, "button[aria-label='Revoke rack 12']"))
    check("the admin revokes the enrollment token", "Done: the token is revoked" in main_text()
          and not driver.find_elements(By.CSS_SELECTOR, "button[aria-label='Revoke rack 12']"))
    label = driver.find_element(By.XPATH, "//label[text()='Role of newbie']")
    role = driver.find_element(By.ID, label.get_attribute("for"))
    Select(role).select_by_visible_text("auditor")
    submit(role.find_element(By.XPATH, "./ancestor::form"))
    check("the admin changes the role", "Done: the role is changed" in main_text())
    click_and_wait(driver.find_element(By.CSS_SELECTOR, "button[aria-label='Disable newbie']"))
    check("the admin disables the user", "Done: the user is disabled" in main_text() and
          driver.find_elements(By.CSS_SELECTOR, "button[aria-label='Enable newbie']"))
    shot("admin-done")
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
    for path in ("/login", "/", "/hosts", "/cves", "/campaigns", "/actions", "/campaigns/new",
                 "/tickets", "/audit", "/admin", "/hosts/" + HOST_ID):
        # Unlike the other pages, /login needs no session.
        r, text = request("GET", path, cookie=None if path == "/login" else session)
        csp = r.getheader("Content-Security-Policy") or ""
        check("GET %s: CSP without inline script, no framing, nosniff, no referrer" % path,
              r.status == 200 and "script-src 'self'" in csp and "unsafe-inline" not in csp
              and "frame-ancestors 'none'" in csp and
              r.getheader("X-Content-Type-Options") == "nosniff" and
              r.getheader("Referrer-Policy") == "no-referrer" and "<script>" not in text,
              "%s %s" % (r.status, csp))
    for path in ("/hosts/" + HOST_ID, "/admin", "/campaigns/" + CAMPAIGN):
        r, text = request("GET", path + "?done=" + urllib.parse.quote("call 555-0100 now"),
                          cookie=session)
        check("GET %s?done=...: a link cannot put its own words on the page" % path,
              r.status == 200 and "555-0100" not in text, str(r.status))
    r, text = request("GET", "/cves?q=" + urllib.parse.quote("../hosts/1"), cookie=session)
    check("the exposure search takes ids only, not paths", r.status == 400, str(r.status))
    r, text = request("GET", "/", cookie=session)
    css = text.split('rel="stylesheet" href="')[1].split('"')[0]
    r, _ = request("GET", css)
    check("the stylesheet has a versioned URL and is cached for long",
          r.status == 200 and "max-age=31536000" in (r.getheader("Cache-Control") or ""), css)
    r, _ = request("POST", "/logout", {}, session)
    check("logout without the CSRF token is refused", r.status == 403)
    for i in range(4):  # [server] login_failures = 4 in the test's configuration
        r, _ = form_login("locky", "wrong %d" % i)
    r, text = form_login("locky", PASSWORD)
    check("after 4 failures even the right password is refused (lockout)",
          r.status == 401 and "too many failed logins" in text, str(r.status))
    login("locky")
    check("... in the browser too", h1() == "Log in" and
          "too many failed logins" in driver.page_source)
finally:
    driver.quit()

print("%d failed" % browser_lib.failures)
sys.exit(1 if browser_lib.failures else 0)
