"""Dashboard URLs. Each area has its own views module; names are used by templates and emails."""

from django.urls import include, path

from contracts import views, views_actions, views_lineage

urlpatterns = [
    path("", views.home, name="home"),
    path("assets/", views.asset_list, name="asset_list"),
    path("assets/<int:pk>/", views.asset_detail, name="asset_detail"),
    path("assets/<int:pk>/diff/<int:a>/<int:b>/", views.version_diff, name="version_diff"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/withdraw/", views_actions.proposal_withdraw, name="proposal_withdraw"),
    path("proposals/<int:pk>/force/", views_actions.proposal_force, name="proposal_force"),
    path("lineage/", views_lineage.lineage_page, name="lineage"),
    path("lineage/graph.json", views_lineage.lineage_json, name="lineage_json"),
    path("upload/", views_actions.upload, name="upload"),
    path("upload/results/", views_actions.upload_results, name="upload_results"),
    path("uploads/results/<int:pk>/", views_actions.result_upload_detail, name="result_upload_detail"),
    path("syncs/<int:pk>/", views.sync_detail, name="sync_detail"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("events/", views.event_log, name="event_log"),
    path("", include("contracts.urls_answers")),  # answer links, answer form, DEBUG outbox
]
