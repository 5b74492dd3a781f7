import os

# Playwright's sync API runs an event loop; Django's live_server refuses DB access from it without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def _serialized_contents_for_every_connection(django_db_setup):
    """Let serialized_rollback restore the catalogue in browser tests.

    Once Playwright runs its event loop, Django hands the test code a fresh connection object (connections are
    context-local), which lacks the snapshot taken when the test database was created; without it the flush
    after one browser test leaves the next one without provinces and criteria sets. This runs before the
    browser starts and shares the snapshot with every connection of the same backend.
    """
    from django.db import connections

    for connection in connections.all():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents is not None:
            type(connection)._test_serialized_contents = contents
