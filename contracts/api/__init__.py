"""The API's routers, one module per area: sync (dbt ingestion), read (assets, registrations,
teams), proposals (the acknowledgment workflow). Mounted by tessera_site.api."""
