select
    payments.payment_id,
    payments.order_id,
    orders.customer_id,
    payments.payment_method,
    payments.payment_status,
    payments.amount,
    payments.paid_at,
    cast(payments.paid_at as date) as payment_date
from {{ ref('stg_payments') }} as payments
inner join {{ ref('stg_orders') }} as orders
    on payments.order_id = orders.order_id
