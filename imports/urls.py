from django.urls import path

from imports import views

urlpatterns = [
    path("nhap-so-lieu/<int:area_id>/", views.upload, name="wizard_upload"),
    path("nhap-so-lieu/<int:area_id>/<str:token>/trang-tinh/", views.sheet, name="wizard_sheet"),
    path("nhap-so-lieu/<int:area_id>/<str:token>/ghep-cot/", views.mapping, name="wizard_mapping"),
    path("nhap-so-lieu/<int:area_id>/<str:token>/xem-thu/", views.preview, name="wizard_preview"),
    path("nhap-so-lieu/<int:area_id>/<str:token>/ghi/", views.commit, name="wizard_commit"),
]
