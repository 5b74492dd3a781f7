from django.urls import path

from areas import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dia-ban/<int:area_id>/", views.area_detail, name="area_detail"),
]
