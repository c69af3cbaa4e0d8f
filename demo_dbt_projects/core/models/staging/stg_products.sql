select
    cast(id as integer) as product_id,
    cast(sku as varchar) as sku,
    cast(name as varchar) as product_name,
    cast(category as varchar) as category,
    cast(unit_price as decimal(12, 2)) as unit_price,
    cast(is_active as boolean) as is_active
from {{ ref('raw_products') }}
