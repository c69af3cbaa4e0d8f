"""Dashboard pages, one module per area: browse (read-only pages), proposal_actions (withdraw,
force), uploads (manifest and result files), answers (answer links and form), lineage, outbox
(DEBUG email outbox); access holds the lookups that 404 a stranger."""
