"""The dashboard served once for the browser tests; every test fails on a request that left this machine or
failed, and on an exception box in the page."""

from __future__ import annotations

import pytest
from driver import LAUNCH, NetworkLog, serve


@pytest.fixture(scope="session")
def app_url() -> str:
    with serve() as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, **LAUNCH}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "accept_downloads": True}


@pytest.fixture
def app(page, app_url):
    """A browser page on the dashboard, checked after the test for network errors and exception boxes."""
    network = NetworkLog(page)
    page.set_default_timeout(120_000)
    page.app_url = app_url
    yield page
    assert network.external == [], f"requests left this machine: {network.external}"
    assert network.failed == [], f"requests failed: {network.failed}"
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, f"an exception box is shown: {boxes.first.inner_text()}"
