from django.urls import path

from reports import views

urlpatterns = [
    path("xuat-bieu/<int:area_id>/", views.export_bieu, name="export_bieu"),
    path("xuat-bieu/tac-vu/<int:job_id>/", views.export_job, name="export_job"),
    path("xuat-bieu/tac-vu/<int:job_id>/chay/", views.export_job_run, name="export_job_run"),
    path("xuat-bieu/tac-vu/<int:job_id>/tai-ve/", views.export_job_download, name="export_job_download"),
    path("nhap-bieu/<int:area_id>/", views.import_bieu, name="import_bieu"),
    path("nhap-bieu/<int:area_id>/kiem-tra/<str:token>/", views.import_review, name="import_review"),
]
