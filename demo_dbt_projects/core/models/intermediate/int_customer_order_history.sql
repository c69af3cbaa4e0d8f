-- Cancelled orders never count towards a customer's history or value.
with channel_rank as (
    select
        customer_id,
        channel,
        row_number() over (partition by customer_id order by count(*) desc, channel) as channel_rank
    from {{ ref('int_order_totals') }}
    where status != 'cancelled'
    group by customer_id, channel
)

select
    orders.customer_id,
    cast(min(orders.order_date) as date) as first_order_date,
    cast(max(orders.order_date) as date) as last_order_date,
    cast(count(*) as integer) as order_count,
    cast(sum(orders.total_amount) as decimal(12, 2)) as lifetime_value,
    cast(any_value(channel_rank.channel) as varchar) as preferred_channel
from {{ ref('int_order_totals') }} as orders
left join channel_rank
    on orders.customer_id = channel_rank.customer_id
    and channel_rank.channel_rank = 1
where orders.status != 'cancelled'
group by orders.customer_id
