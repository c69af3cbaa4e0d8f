{#- Version 2 of dim_products (see _marts.yml): the price is the list price, named so; v1 called
    it unit_price. -#}
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
    products.is_active,
    coalesce(sales.units_sold, 0) as units_sold,
    coalesce(sales.net_sales_amount, 0) as net_sales_amount,
    products.unit_price as list_price
from {{ ref('stg_products') }} as products
left join sales
    on products.product_id = sales.product_id
