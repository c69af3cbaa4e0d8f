-- Invoices with the order amount and the cash core recorded for the order.
with paid as (
    select order_id, sum(amount) as paid_amount
    from {{ source('core', 'fct_payments') }}
    where payment_status = 'success'
    group by order_id
)

select
    invoices.invoice_id,
    invoices.order_id,
    orders.customer_id,
    orders.total_amount as invoice_amount,
    cast(coalesce(paid.paid_amount, 0) as decimal(12, 2)) as paid_amount
from {{ ref('stg_invoices') }} as invoices
inner join {{ source('core', 'fct_orders') }} as orders
    on invoices.order_id = orders.order_id
left join paid
    on invoices.order_id = paid.order_id
