from django.urls import path

from dashboards import home, views

urlpatterns = [
    path("", home.home, name="home"),
    path("bang-dieu-khien/", views.dashboard, name="dashboard_national"),
    path("bang-dieu-khien/<int:area_id>/", views.dashboard, name="dashboard"),
]
