"""Dashboard URLs. Each area has its own views module; names are used by templates and emails."""

from django.urls import path

from contracts.views import browse, deprecations, lineage, notifications, proposal_actions, uploads

urlpatterns = [
    path("", browse.home, name="home"),
    path("assets/", browse.asset_list, name="asset_list"),
    # assets/<int:pk>/ (the asset page) is routed in tessera_site/urls.py, which hands it the audits' part.
    path("assets/<int:pk>/diff/<int:a>/<int:b>/", browse.version_diff, name="version_diff"),
    path("proposals/<int:pk>/", browse.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/withdraw/", proposal_actions.proposal_withdraw, name="proposal_withdraw"),
    path("proposals/<int:pk>/force/", proposal_actions.proposal_force, name="proposal_force"),
    path("deprecations/", deprecations.deprecation_list, name="deprecation_list"),
    path("deprecations/<int:pk>/", deprecations.deprecation_detail, name="deprecation_detail"),
    path("lineage/", lineage.lineage_page, name="lineage"),
    path("lineage/graph.json", lineage.lineage_json, name="lineage_json"),
    path("upload/", uploads.upload, name="upload"),
    path("syncs/<int:pk>/", browse.sync_detail, name="sync_detail"),
    path("teams/<slug:slug>/", browse.team_detail, name="team_detail"),
    path("teams/<slug:slug>/notifications/", notifications.team_notifications, name="team_notifications"),
    path("teams/<slug:slug>/notifications/slack/", notifications.team_slack, name="team_slack"),
    path("events/", browse.event_log, name="event_log"),
]
