with item_totals as (
    select
        order_id,
        cast(sum(quantity) as integer) as item_count,
        cast(sum(gross_amount) as decimal(12, 2)) as subtotal_amount,
        cast(sum(discount_amount) as decimal(12, 2)) as discount_amount
    from {{ ref('int_order_items_enriched') }}
    group by order_id
)

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    orders.status,
    orders.channel,
    item_totals.item_count,
    item_totals.subtotal_amount,
    item_totals.discount_amount,
    orders.shipping_amount,
    cast(item_totals.subtotal_amount - item_totals.discount_amount + orders.shipping_amount as decimal(12, 2))
        as total_amount
from {{ ref('stg_orders') }} as orders
inner join item_totals
    on orders.order_id = item_totals.order_id
