{#
    core's dim_customers, as marketing reads it. Normally a dbt source (core.main.dim_customers);
    in the `loom` variant (--vars '{tessera_demo: loom}', with dbt-loom reading core's manifest:
    see loom/dbt_loom.config.yml) a cross-project ref to core's public model instead, so the
    manifest carries core's model as an injected node of package `core`.
#}
{% macro core_dim_customers() %}
  {%- if var('tessera_demo', none) == 'loom' -%}
    {{ return(ref('core', 'dim_customers')) }}
  {%- else -%}
    {{ return(source('core', 'dim_customers')) }}
  {%- endif -%}
{% endmacro %}
