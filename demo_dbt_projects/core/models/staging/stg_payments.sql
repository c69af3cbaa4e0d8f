select
    cast(id as integer) as payment_id,
    cast(order_id as integer) as order_id,
    cast(payment_method as varchar) as payment_method,
    cast(status as varchar) as payment_status,
    cast(amount as decimal(12, 2)) as amount,
    cast(paid_at as timestamp) as paid_at
from {{ ref('raw_payments') }}
