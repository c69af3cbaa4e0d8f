-- Last-touch attribution: each fulfilled order of core.main.fct_orders goes to the customer's
-- latest touchpoint in the attribution window before the order day (none → unattributed).
with orders as (
    select order_id, customer_id, order_date, total_amount
    from {{ source('core', 'fct_orders') }}
    where status in ('shipped', 'completed')
),

candidates as (
    select
        orders.order_id,
        touches.touchpoint_id,
        touches.campaign_id,
        touches.touched_at,
        row_number() over (
            partition by orders.order_id
            order by touches.touched_at desc, touches.touchpoint_id desc
        ) as recency_rank
    from orders
    inner join {{ ref('int_customer_touchpoints') }} as touches
        on orders.customer_id = touches.customer_id
        and touches.touched_at < cast(orders.order_date as timestamp)
        and touches.touched_at >= cast(orders.order_date as timestamp)
            - to_days({{ var('attribution_window_days') }})
)

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    orders.total_amount as order_amount,
    candidates.touchpoint_id,
    candidates.campaign_id,
    cast(date_diff('day', cast(candidates.touched_at as date), orders.order_date) as integer) as days_to_convert
from orders
left join candidates
    on orders.order_id = candidates.order_id
    and candidates.recency_rank = 1
