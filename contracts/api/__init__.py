"""The API's routers, one module per area: sync (dbt ingestion), assets (read), registrations,
teams, proposals (the acknowledgment workflow); schemas and the caller check are shared.
Mounted by tessera_site.api."""
