select
    items.order_item_id,
    items.order_id,
    items.product_id,
    products.category,
    items.quantity,
    items.unit_price,
    cast(items.unit_price * items.quantity as decimal(12, 2)) as gross_amount,
    items.discount_amount,
    cast(items.unit_price * items.quantity - items.discount_amount as decimal(12, 2)) as net_amount
from {{ ref('stg_order_items') }} as items
inner join {{ ref('stg_products') }} as products
    on items.product_id = products.product_id
