{#- Version 1 of dim_products (see _marts.yml; v2 is dim_products_v2.sql). The broken variant fails
    this model's build (a price that is no number), as a bad deploy would: its tests are skipped
    and the publish gate must hold until a later build succeeds. The products_v1_removed variant
    takes v1 out of the project (its readers must be asked). -#}
{{ config(enabled=var('tessera_demo', none) != 'products_v1_removed') }}
with sales as (
    select
        items.product_id,
        cast(sum(items.quantity) as integer) as units_sold,
        cast(sum(items.net_amount) as decimal(12, 2)) as net_sales_amount
    from {{ ref('int_order_items_enriched') }} as items
    inner join {{ ref('int_order_totals') }} as orders
        on items.order_id = orders.order_id
    where orders.status != 'cancelled'
    group by items.product_id
)

select
    products.product_id,
    products.sku,
    products.product_name,
    products.category,
{%- if var('tessera_demo', none) == 'broken' %}
    cast('n/a' as decimal(12, 2)) as unit_price,
{%- else %}
    products.unit_price,
{%- endif %}
    products.is_active,
    coalesce(sales.units_sold, 0) as units_sold,
    coalesce(sales.net_sales_amount, 0) as net_sales_amount
from {{ ref('stg_products') }} as products
left join sales
    on products.product_id = sales.product_id
