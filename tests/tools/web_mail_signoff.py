#!/usr/bin/env python3
"""A manager signs off a risk acceptance from the link in a mail
(tests/scripts/web_mail_signoff.sh), in Debian's headless Chromium driven
by Debian's python3-selenium, without a session at first.

    web_mail_signoff.py LINK CAMPAIGN HOST USER SHOTS

LINK the URL taken from the mail, CAMPAIGN and HOST the declined host's,
USER the manager (password "correct horse"), SHOTS a directory for the
screenshots. Prints "ok - ..." / "not ok - ..." lines; exit 1 when any
failed.
"""
import datetime
import sys
import urllib.parse

from selenium.webdriver.common.by import By

import browser_lib
from browser_lib import check

LINK, CAMPAIGN, HOST, USER, SHOTS = sys.argv[1:6]
browser = browser_lib.Browser(SHOTS, 1600)
driver, shot, h1 = browser.driver, browser.shot, browser.h1


def path_of(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


try:
    link_path = path_of(LINK)
    driver.get(LINK)
    check("the mail's link, without a session, leads to the login form that goes back to it",
          h1() == "Log in" and path_of(driver.current_url) == "/login?next=" + link_path,
          driver.current_url)
    shot("mail-link-login")
    driver.find_element(By.ID, "user").send_keys(USER)
    driver.find_element(By.ID, "password").send_keys("correct horse")
    browser.click_and_wait(driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))
    check("after the login the manager is on the linked page",
          path_of(driver.current_url) == link_path and h1() == "My actions",
          driver.current_url + " " + h1())
    form = None
    for f in driver.find_elements(By.CSS_SELECTOR, "form[action='/campaigns/%s/step']" % CAMPAIGN):
        s = f.find_element(By.CSS_SELECTOR, "input[name=step]").get_attribute("value")
        h = f.find_element(By.CSS_SELECTOR, "input[name=host]").get_attribute("value")
        if s == "sign-off" and h == HOST:
            form = f
    check("the page offers the sign-off of %s" % HOST, form is not None)
    if form:
        expires = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
        form.find_element(By.NAME, "expires").send_keys(expires)
        shot("mail-link-sign-off-form")
        browser.submit(form)
        main = driver.find_element(By.TAG_NAME, "main").text
        check("signed off in the browser: the risk is accepted",
              "Done: sign-off" in main and "risk_accepted" in main, main[:600])
        shot("mail-link-signed-off")
finally:
    driver.quit()
sys.exit(1 if browser_lib.failures else 0)
