from django.urls import path

from criteria import views

urlpatterns = [
    path("khong-gian/<int:area_id>/", views.workspace, name="workspace"),
    path("khong-gian/<int:area_id>/tieu-chi/<int:criterion_id>/", views.criterion_detail, name="workspace_criterion"),
    path(
        "khong-gian/<int:area_id>/tieu-chi/<int:criterion_id>/danh-gia/",
        views.assess_criterion,
        name="assess_criterion",
    ),
    path("khong-gian/<int:area_id>/chi-tieu/<int:indicator_id>/", views.edit_indicator, name="edit_indicator"),
    path(
        "khong-gian/<int:area_id>/chi-tieu/<int:indicator_id>/lich-su/",
        views.indicator_history,
        name="indicator_history",
    ),
    path(
        "khong-gian/<int:area_id>/chi-tieu/<int:indicator_id>/minh-chung/",
        views.upload_evidence,
        name="upload_evidence",
    ),
    path(
        "khong-gian/<int:area_id>/minh-chung/<int:evidence_id>/",
        views.download_evidence,
        name="download_evidence",
    ),
    path(
        "khong-gian/<int:area_id>/minh-chung/<int:evidence_id>/xoa/",
        views.delete_evidence,
        name="delete_evidence",
    ),
    path(
        "khong-gian/<int:area_id>/minh-chung/<int:evidence_id>/hoan-tac/",
        views.undo_delete_evidence,
        name="undo_delete_evidence",
    ),
]
