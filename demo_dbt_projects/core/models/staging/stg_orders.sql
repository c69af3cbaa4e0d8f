select
    cast(id as integer) as order_id,
    cast(customer_id as integer) as customer_id,
    cast(order_date as date) as order_date,
    cast(status as varchar) as status,
    cast(channel as varchar) as channel,
    cast(shipping_amount as decimal(12, 2)) as shipping_amount
from {{ ref('raw_orders') }}
