"""Thresholds changed by an administrator: saved, deleted or confirmed, and every result they judge re-evaluated."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from criteria.models import Indicator, Threshold
from criteria.services import recompute


@transaction.atomic
def save_threshold(*, threshold: Threshold, user=None) -> int:
    """Save a corrected threshold and re-evaluate every stored result it judges."""
    threshold._history_user = user
    threshold.save()
    return recompute(indicator=threshold.indicator, user=user)


@transaction.atomic
def delete_thresholds(*, thresholds, user=None) -> int:
    indicator_ids = set()
    for threshold in thresholds:
        indicator_ids.add(threshold.indicator_id)
        threshold._history_user = user
        threshold.delete()
    return sum(recompute(indicator=i, user=user) for i in Indicator.objects.filter(pk__in=indicator_ids))


@transaction.atomic
def confirm_thresholds(*, thresholds, source: str, user=None) -> int:
    """Mark thresholds as checked against the named document; results judged on them stop being tentative."""
    source = (source or "").strip()
    if not source:
        raise ValidationError(_("Hãy ghi tên văn bản đã dùng để đối chiếu ngưỡng."))
    indicator_ids = set()
    for threshold in thresholds:
        threshold.verified = True
        threshold.source = source
        threshold._history_user = user
        threshold.save()
        indicator_ids.add(threshold.indicator_id)
    for indicator in Indicator.objects.filter(pk__in=indicator_ids):
        recompute(indicator=indicator, user=user)
    return len(indicator_ids)
