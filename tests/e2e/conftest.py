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


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # A Vietnamese browser: LocaleMiddleware would otherwise pick English number formats ("0.0 %").
    return {**browser_context_args, "locale": "vi-VN"}


@pytest.fixture
def world():
    """Seed 001: An Dương 17/19 lacking 6 and 17; Song Vân 16/19 lacking 2, 6 and 17 (assessed for 2024)."""
    from criteria import services
    from criteria.models import CriteriaSet
    from tests.personas import build_world

    w = build_world()
    w.criteria_set = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
    for commune, unmet in ((w.an_duong, {6, 17}), (w.song_van, {2, 6, 17})):
        for criterion in w.criteria_set.criteria.all():
            services.assess_criterion(
                area=commune,
                criterion=criterion,
                year=2024,
                status="not_met" if criterion.number in unmet else "met",
                user=w.reviewer_tan_yen,
            )
    return w


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
