"""Dashboard URLs. Each area has its own views module; names are used by templates and emails."""

from django.urls import include, path

from contracts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("assets/<int:pk>/", views.asset_detail, name="asset_detail"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path("syncs/<int:pk>/", views.sync_detail, name="sync_detail"),
    path("", include("contracts.urls_answers")),  # answer links, answer form, DEBUG outbox
]
