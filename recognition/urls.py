from django.urls import path

from recognition import views

urlpatterns = [
    path("cong-nhan/<int:area_id>/", views.file_detail, name="recognition_file"),
    path("cong-nhan/<int:area_id>/buoc/", views.take_step, name="recognition_step"),
    path("cong-nhan/<int:area_id>/thong-tin/", views.save_details, name="recognition_details"),
    path("cong-nhan/<int:area_id>/danh-sach/", views.file_list, name="recognition_list"),
]
