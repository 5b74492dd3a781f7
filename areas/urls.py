from django.urls import path

from areas import views

urlpatterns = [
    path("dia-ban/<int:area_id>/", views.area_detail, name="area_detail"),
]
