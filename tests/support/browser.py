"""Debian's chromium driven by Playwright, the way every browser test here uses it: never a
downloaded browser, headless, nothing fetched from outside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.real import unavailable

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


def require_chromium() -> None:
    """Skip (fail with CI=true) when Debian's chromium or the playwright package is missing."""
    if not Path(CHROMIUM).exists():
        unavailable("Debian's chromium is not installed")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the playwright package is not installed")
    ARTIFACTS.mkdir(exist_ok=True)


def launch(p: Any, *extra_args: str) -> Any:
    """A browser from `sync_playwright()`'s `p`."""
    return p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, *extra_args])


def log_in(browser: Any, base: str, name: str, lands_on: str, bypass_csp: bool = True,
           password: str = "correct horse") -> Any:
    """A new page logged in as `name` through the login form, on `lands_on` (e.g. "/seat")."""
    page = browser.new_context(bypass_csp=bypass_csp).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{lands_on}")
    return page
