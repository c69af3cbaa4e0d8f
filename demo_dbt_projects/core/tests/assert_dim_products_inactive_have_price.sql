-- Discontinued products stay in the catalogue with their last price (the latest version of
-- dim_products: an unpinned ref follows latest_version).
select product_id, list_price
from {{ ref('dim_products') }}
where list_price is null or list_price <= 0
