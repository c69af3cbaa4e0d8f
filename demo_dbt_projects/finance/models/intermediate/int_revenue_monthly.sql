-- core's daily revenue rolled up to months (a real read of core.main.fct_daily_revenue).
select
    cast(date_trunc('month', revenue_date) as date) as revenue_month,
    cast(sum(order_count) as integer) as order_count,
    cast(sum(gross_revenue) as decimal(12, 2)) as gross_revenue,
    cast(sum(discount_amount) as decimal(12, 2)) as discount_amount,
    cast(sum(shipping_revenue) as decimal(12, 2)) as shipping_revenue,
    cast(sum(net_revenue) as decimal(12, 2)) as net_revenue,
    cast(sum(payments_received) as decimal(12, 2)) as payments_received
from {{ source('core', 'fct_daily_revenue') }}
group by 1
