from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from areas.models import Area


class SavedMappingQuerySet(models.QuerySet):
    def for_area(self, area):
        """The mappings saved for the area or any unit above it (a district's mapping serves its communes)."""
        ids = [area.pk, area.commune_id, area.district_id, area.province_id]
        return self.filter(area_id__in=[i for i in ids if i])


class SavedMapping(models.Model):
    """Which field each column of a workbook holds, saved under a name for an area ("Biểu 01 của huyện Tân Yên")
    and offered again for a workbook with the same headings."""

    area = models.ForeignKey(Area, models.CASCADE, related_name="saved_mappings", verbose_name=_("địa bàn"))
    name = models.CharField(_("tên"), max_length=200)
    layout = models.CharField(_("kiểu bảng"), max_length=10)
    # The headings by column letter, compared without diacritics: "A=tt|B=ten xa|…".
    signature = models.TextField(_("dòng tiêu đề"))
    # {"column number": "field key"}, keys naming criteria by number, indicators and sources by code.
    columns = models.JSONField(_("ghép cột"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("người lưu")
    )
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    objects = SavedMappingQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("cách ghép cột đã lưu")
        verbose_name_plural = _("cách ghép cột đã lưu")
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="saved_mapping_unique_name")]

    def __str__(self):
        return self.name
