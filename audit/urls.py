from django.urls import path

from audit import views

urlpatterns = [
    path("kiem-tra/", views.changes, name="audit"),
]
