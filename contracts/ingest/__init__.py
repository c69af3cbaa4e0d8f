"""Pure parsers of dbt artifacts: bytes in, dataclasses out, no database."""
