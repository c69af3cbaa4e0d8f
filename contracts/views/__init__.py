"""Dashboard pages, one module per area: browse (read-only pages), actions (producer actions and
uploads), answers (answer links and form), lineage, outbox (DEBUG email outbox)."""
