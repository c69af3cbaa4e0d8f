-- The products marketing promotes, from core's dim_products. Version 1 calls the price
-- unit_price; version 2 (the products_v2 variant, marketing's move) calls it list_price.
select
    products.product_id,
    products.product_name,
    products.category,
{%- if var('tessera_demo', none) == 'products_v2' %}
    products.list_price as unit_price
{%- else %}
    products.unit_price
{%- endif %}
from {{ source('core', 'dim_products') }} as products
where products.is_active
