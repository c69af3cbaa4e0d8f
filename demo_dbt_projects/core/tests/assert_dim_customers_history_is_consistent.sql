{#- In dim_customers' group, so it may still read it when the private variant makes it private. -#}
{{ config(enabled=var('tessera_demo', none) != 'removed', group='platform') }}
-- A customer with orders has first/last order dates in order; a prospect has none.
select customer_id, order_count, first_order_date, last_order_date
from {{ ref('dim_customers') }}
where (order_count = 0) != (first_order_date is null)
   or last_order_date < first_order_date
   or first_order_date < signup_date
