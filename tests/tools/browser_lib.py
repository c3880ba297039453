"""What the console's browser tests share (web_browser.py, web_mail_signoff.py):
TAP-like checks ("ok - ..." / "not ok - ..." lines, counted) and Debian's
headless Chromium driven through chromedriver by Debian's python3-selenium,
with screenshots kept in a directory and form posts that wait for the page
they lead to."""
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

failures = 0


def check(what, cond, detail=""):
    global failures
    if cond:
        print("ok - " + what)
    else:
        failures += 1
        print("not ok - %s %s" % (what, detail))


def gone(element):
    """Whether the element left the document. chromedriver sometimes says
    so, while the next page replaces the old one, with an "unhandled
    inspector error" (node not in the document) rather than a stale
    element reference (both are WebDriverExceptions)."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


class Browser:
    def __init__(self, shots, height):
        opts = webdriver.ChromeOptions()
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=1280,%d" % height):
            opts.add_argument(a)
        self.driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"),
                                       options=opts)
        self.driver.set_page_load_timeout(30)
        self.shots = shots

    def shot(self, name):
        self.driver.save_screenshot("%s/%s.png" % (self.shots, name))

    def h1(self):
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def click_and_wait(self, button, confirm=False):
        """Clicks a form's button and waits for the page it leads to."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        button.click()
        if confirm:  # the script's confirmation, where the form asks for one
            WebDriverWait(self.driver, 10).until(expected_conditions.alert_is_present())
            self.driver.switch_to.alert.accept()
        WebDriverWait(self.driver, 20).until(lambda d: gone(old))

    def submit(self, form):
        self.click_and_wait(form.find_element(By.CSS_SELECTOR, "button[type=submit]"),
                            confirm=form.get_attribute("data-confirm") is not None)
