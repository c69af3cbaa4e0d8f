-- Net revenue of a day is gross revenue minus discounts plus shipping.
select revenue_date, gross_revenue, discount_amount, shipping_revenue, net_revenue
from {{ ref('fct_daily_revenue') }}
where net_revenue != gross_revenue - discount_amount + shipping_revenue
