{#- The demo variants (see contract_variants/): removed disables this model, private makes it private, breaking drops country_code,
    retyped turns signup_date into a timestamp, additive adds
    preferred_channel, failing blanks one customer's email so not_null_dim_customers_email
    fails while everything still builds. -#}
{%- set variant = var('tessera_demo', none) -%}
{#- The removed variant takes dim_customers out of the project (its consumers must be asked). -#}
{{ config(enabled=variant != 'removed') }}
{#- The private variant narrows dbt access from public to private while marketing and finance read it. -#}
{%- if variant == 'private' %}{{ config(access='private') }}{% endif %}
select
    customers.customer_id,
    cast(customers.first_name || ' ' || customers.last_name as varchar) as full_name,
{%- if variant == 'failing' %}
    case when customers.customer_id = 42 then null else customers.email end as email,
{%- else %}
    customers.email,
{%- endif %}
{%- if variant != 'breaking' %}
    customers.country_code,
{%- endif %}
{%- if variant == 'retyped' %}
    cast(customers.signup_date as timestamp) as signup_date,
{%- else %}
    customers.signup_date,
{%- endif %}
    history.first_order_date,
    history.last_order_date,
    coalesce(history.order_count, 0) as order_count,
    coalesce(history.lifetime_value, 0) as lifetime_value,
    cast(
        case
            when history.order_count is null then 'prospect'
            when history.lifetime_value >= 500 then 'vip'
            when history.order_count >= 3 then 'loyal'
            else 'new'
        end as varchar
    ) as customer_segment
{%- if variant == 'additive' %},
    history.preferred_channel
{%- endif %}
from {{ ref('stg_customers') }} as customers
left join {{ ref('int_customer_order_history') }} as history
    on customers.customer_id = history.customer_id
