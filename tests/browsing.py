"""Browser tests: Playwright (Python) driving Debian's Chromium against live_server.

Chromium comes from apt (`.ci/run` installs it); Playwright cannot download its own
browser here. Without /usr/bin/chromium the tests are skipped, except in CI
(REQUIRE_BROWSER=1), where a missing browser fails the run.
"""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make to set up data are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _browser_missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    missing = _browser_missing()
    if missing:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if msg.type == "error" else None,
    )
    page.js_errors = errors
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, username: str, password: str = "pw") -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def open_action(page, name: str):
    """Click the detail page's button for transition `name` (one that asks for inputs):
    the Bootstrap modal opens and htmx loads the transition form into it. Returns the
    form inside the modal, once it is there and visible."""
    page.click(f"#actions [data-action='{name}']")
    form = page.locator(f"#action-modal #transition-form[data-transition='{name}']")
    form.wait_for(state="visible")
    return form


def detail_url(page, complaint) -> str:
    return f"{page.base_url}/complaints/{complaint.pk}/"


def unexpected_js_errors(page, *statuses: int) -> list[str]:
    """page.js_errors without Chromium's "Failed to load resource" lines for the HTTP
    statuses a test provokes on purpose (a refused form is answered 400/409, a hidden
    complaint 404): those are not script failures. Anything else is kept."""
    expected = tuple(f"the server responded with a status of {status} (" for status in statuses)
    return [
        error
        for error in page.js_errors
        if not (error.startswith("Failed to load resource:") and any(e in error for e in expected))
    ]


def sign_out(page) -> None:
    """The navbar's "Log out" button (a POST); lands on the login page."""
    page.locator("nav form[action$='/logout/'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" in url)
