{#- The breaking and retyped variants turn item_count into text: an unrelated type change. -#}
select
    order_id,
    customer_id,
    order_date,
    status,
    channel,
{%- if var('tessera_demo', none) in ['breaking', 'retyped'] %}
    cast(item_count as varchar) as item_count,
{%- else %}
    item_count,
{%- endif %}
    subtotal_amount,
    discount_amount,
    shipping_amount,
    total_amount,
    status in ('shipped', 'completed') as is_fulfilled
from {{ ref('int_order_totals') }}
