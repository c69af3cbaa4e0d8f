-- The demo's trading period is the first half of 2025.
select order_id, order_date
from {{ ref('stg_orders') }}
where order_date < date '2025-01-01' or order_date > date '2025-06-30'
