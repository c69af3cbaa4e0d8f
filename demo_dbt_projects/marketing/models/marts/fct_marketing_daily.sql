with spend as (
    select
        spend_date as activity_date,
        sum(spend_amount) as spend_amount,
        sum(impressions) as impressions,
        sum(clicks) as clicks
    from {{ ref('stg_ad_spend') }}
    group by spend_date
),

touches as (
    select cast(touched_at as date) as activity_date, count(*) as touchpoints
    from {{ ref('int_customer_touchpoints') }}
    group by cast(touched_at as date)
),

orders as (
    select
        order_date as activity_date,
        count(*) as attributed_orders,
        sum(attributed_revenue) as attributed_revenue
    from {{ ref('fct_attribution') }}
    group by order_date
),

days as (
    select activity_date from spend
    union
    select activity_date from touches
    union
    select activity_date from orders
)

select
    days.activity_date,
    cast(coalesce(spend.spend_amount, 0) as decimal(12, 2)) as spend_amount,
    cast(coalesce(spend.impressions, 0) as bigint) as impressions,
    cast(coalesce(spend.clicks, 0) as integer) as clicks,
    cast(coalesce(touches.touchpoints, 0) as integer) as touchpoints,
    cast(coalesce(orders.attributed_orders, 0) as integer) as attributed_orders,
    cast(coalesce(orders.attributed_revenue, 0) as decimal(12, 2)) as attributed_revenue
from days
left join spend on days.activity_date = spend.activity_date
left join touches on days.activity_date = touches.activity_date
left join orders on days.activity_date = orders.activity_date
