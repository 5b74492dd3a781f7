from django.urls import path

from reports import export_views

urlpatterns = [
    path("xuat-bieu/<int:area_id>/", export_views.export_bieu, name="export_bieu"),
]
