select
    cast(id as integer) as touchpoint_id,
    cast(customer_id as integer) as customer_id,
    cast(campaign_id as integer) as campaign_id,
    cast(touched_at as timestamp) as touched_at,
    cast(touch_type as varchar) as touch_type
from {{ ref('raw_touchpoints') }}
