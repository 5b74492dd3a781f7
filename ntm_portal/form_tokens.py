"""One-time form tokens: a creation form sent twice (double click, back and send again, twelve requests at
once) creates its rows once.

- the form declares ``form_token = FormTokenField()``: a hidden uuid4, new for each blank form;
- the service that creates calls ``spend(user=..., token=..., target_url=...)`` FIRST inside its
  ``transaction.atomic``: a token already spent raises ``AlreadySubmitted`` and the whole transaction, with
  anything it created, rolls back;
- the view catches ``AlreadySubmitted`` and answers with ``redirect_already_submitted``.

On PostgreSQL a concurrent second insert of the same token waits on the unique index until the first
transaction ends, then fails (first committed) or goes through (first rolled back, so nothing was created).
"""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ntm_portal.models import SubmittedForm

MISSING = gettext_lazy("Biểu mẫu thiếu mã gửi (trang cũ?). Kiểm tra lại các ô rồi bấm gửi lần nữa.")


class FormTokenField(forms.UUIDField):
    """The hidden one-time token; a missing or broken one is refused, and the form shown again gets a new one."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("initial", uuid.uuid4)
        kwargs.setdefault("error_messages", {"required": MISSING, "invalid": MISSING})
        super().__init__(**kwargs)

    def bound_data(self, data, initial):
        try:
            return self.to_python(data) or initial
        except ValidationError:
            return initial


class AlreadySubmitted(Exception):
    def __init__(self, target_url):
        super().__init__(target_url)
        self.target_url = target_url


def spend(*, user, token: uuid.UUID | None, target_url: str = "") -> None:
    """Record the token as spent by `user`; call it first inside the creating transaction.

    `target_url` is where the sender went after this submission: a repeat is sent there too.
    """
    if token is None:
        return
    try:
        with transaction.atomic():  # a savepoint: the failed insert leaves the outer transaction usable
            SubmittedForm.objects.create(user=user, token=token, target_url=target_url)
    except IntegrityError:
        first = SubmittedForm.objects.filter(user=user, token=token).values_list("target_url", flat=True).first()
        raise AlreadySubmitted(first or target_url) from None
    SubmittedForm.objects.filter(user=user).expired().delete()


def redirect_already_submitted(request, error: AlreadySubmitted, fallback_url: str):
    messages.info(request, _("Đã ghi — biểu mẫu này đã được gửi trước đó."))
    return redirect(error.target_url or fallback_url)
