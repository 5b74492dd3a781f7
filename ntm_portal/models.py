"""Forms already sent: each creation form carries a one-time token, spent in the transaction that creates."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A token only guards against the same form sent twice (double click, back and send again); after this long
# nobody resends a page, so older rows are removed when the same user next spends a token.
KEEP_TOKENS = datetime.timedelta(days=2)


class SubmittedFormQuerySet(models.QuerySet):
    def expired(self, now=None):
        return self.filter(created_at__lt=(now or timezone.now()) - KEEP_TOKENS)


class SubmittedForm(models.Model):
    """A creation form that has been sent, and where its sender was taken afterwards."""

    token = models.UUIDField(_("mã biểu mẫu"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("người gửi"), db_index=False
    )
    created_at = models.DateTimeField(_("gửi lúc"), default=timezone.now)
    target_url = models.CharField(_("trang sau khi gửi"), max_length=500, blank=True)

    objects = SubmittedFormQuerySet.as_manager()

    class Meta:
        verbose_name = _("biểu mẫu đã gửi")
        verbose_name_plural = _("biểu mẫu đã gửi")
        constraints = [
            # Also the index for the user's rows (user_id leads), hence no separate index on the foreign key.
            models.UniqueConstraint(fields=["user", "token"], name="submitted_form_once_per_user"),
        ]

    def __str__(self):
        return f"{self.token} ({self.user_id})"
