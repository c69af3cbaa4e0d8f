"""The audits app's pages (mounted under /audits/): result file uploads and their progress."""

from __future__ import annotations

from django.urls import path

from audits import views

urlpatterns = [
    path("uploads/", views.upload_results, name="upload_results"),
    path("uploads/<int:pk>/", views.result_upload_detail, name="result_upload_detail"),
]
