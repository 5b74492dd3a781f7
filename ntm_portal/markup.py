"""Markup of long, repeated parts of a page (dashboard matrices, the workspace's tiles) built in Python once per
page: a hundred rows through the template engine's tag machinery cost most of a page's CPU. Escaped exactly as the
templates would."""

import html

from django.urls import reverse


def text(value):
    """Django's `escape` without its lazy-string wrapper (a few thousand calls a page): the same markup."""
    return html.escape(str(value))


def url_maker(name, *args):
    """A function of an id giving the (escaped) URL of the view `name` for it, after `args`: one `reverse` per page,
    not one per row (a province page links hundreds of communes)."""
    marker = 987654321
    head, tail = text(reverse(name, args=[*args, marker])).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"
