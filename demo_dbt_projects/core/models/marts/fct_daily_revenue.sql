-- One row per calendar day of the trading period, including days without orders, so
-- consumers can sum any date range without gaps.
with orders as (
    select *
    from {{ ref('int_order_totals') }}
    where status != 'cancelled'
),

bounds as (
    select min(order_date) as first_day, max(order_date) as last_day
    from {{ ref('stg_orders') }}
),

calendar as (
    select cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as revenue_date
    from bounds
),

daily_orders as (
    select
        order_date,
        count(*) as order_count,
        sum(subtotal_amount) as gross_revenue,
        sum(discount_amount) as discount_amount,
        sum(shipping_amount) as shipping_revenue,
        sum(total_amount) as net_revenue
    from orders
    group by order_date
),

daily_payments as (
    select
        cast(paid_at as date) as payment_date,
        sum(amount) as payments_received
    from {{ ref('stg_payments') }}
    where payment_status = 'success'
    group by cast(paid_at as date)
)

select
    calendar.revenue_date,
    cast(coalesce(daily_orders.order_count, 0) as integer) as order_count,
    cast(coalesce(daily_orders.gross_revenue, 0) as decimal(12, 2)) as gross_revenue,
    cast(coalesce(daily_orders.discount_amount, 0) as decimal(12, 2)) as discount_amount,
    cast(coalesce(daily_orders.shipping_revenue, 0) as decimal(12, 2)) as shipping_revenue,
    cast(coalesce(daily_orders.net_revenue, 0) as decimal(12, 2)) as net_revenue,
    cast(coalesce(daily_payments.payments_received, 0) as decimal(12, 2)) as payments_received
from calendar
left join daily_orders
    on calendar.revenue_date = daily_orders.order_date
left join daily_payments
    on calendar.revenue_date = daily_payments.payment_date
