from django.urls import path

from plans import views

urlpatterns = [
    path("ke-hoach/<int:area_id>/", views.plan_list, name="plan_list"),
    path("ke-hoach/<int:area_id>/qua-han/", views.overdue_items, name="overdue_items"),
    path("ke-hoach/<int:area_id>/den-han/", views.due_items, name="due_items"),
    path("ke-hoach/van-ban/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("ke-hoach/van-ban/<int:plan_id>/them-noi-dung/", views.item_create, name="item_create"),
    path("ke-hoach/van-ban/<int:plan_id>/dia-diem/", views.place_suggestions, name="place_suggestions"),
    path("ke-hoach/noi-dung/<int:item_id>/", views.item_detail, name="item_detail"),
    path("ke-hoach/noi-dung/<int:item_id>/sua/", views.item_edit, name="item_edit"),
    path("viec-cua-toi/", views.my_items, name="my_items"),
]
