-- An order's total is its lines, minus discounts, plus shipping; anything else means a
-- join fanned out or an amount was dropped.
select order_id, subtotal_amount, discount_amount, shipping_amount, total_amount
from {{ ref('fct_orders') }}
where total_amount != subtotal_amount - discount_amount + shipping_amount
