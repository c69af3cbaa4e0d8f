-- A touch can only be credited with an order placed after it, within the window.
select order_id, days_to_convert
from {{ ref('fct_attribution') }}
where days_to_convert is null
   or days_to_convert < 1
   or days_to_convert > {{ var('attribution_window_days') }}
