{#
    Called from on-run-start. Reads of core's marts are real reads of core's built DuckDB file,
    attached read-only under the catalog name `core`, so the sources `core.main.<model>` resolve
    to exactly the relations the core project builds. Paths are relative to this project's
    directory (run dbt from there), so a copy of demo_dbt_projects/ works anywhere.

    Attaching here rather than in profiles.yml lets us check first and say what to do: a
    missing file would otherwise surface as a bare DuckDB I/O error.
#}
{% macro attach_core_warehouse(path='../core/core.duckdb') %}
  {%- if execute -%}
    {%- set found = run_query("select count(*) from glob('" ~ path ~ "')").columns[0].values()[0] -%}
    {%- if found == 0 -%}
      {{ exceptions.raise_compiler_error(
          "The core warehouse " ~ path ~ " does not exist: build core first "
          ~ "(cd ../core && dbt deps && dbt build --profiles-dir .), then build " ~ project_name ~ " again."
      ) }}
    {%- endif -%}
  {%- endif -%}
  attach if not exists '{{ path }}' as core (read_only)
{% endmacro %}
