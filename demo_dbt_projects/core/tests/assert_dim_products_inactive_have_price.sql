-- Discontinued products stay in the catalogue with their last price.
select product_id, unit_price
from {{ ref('dim_products') }}
where unit_price is null or unit_price <= 0
