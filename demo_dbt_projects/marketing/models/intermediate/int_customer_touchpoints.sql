-- Touchpoints with the campaign's channel and the customer's segment and country as core
-- knows them (a real read of core.main.dim_customers).
select
    touchpoints.touchpoint_id,
    touchpoints.customer_id,
    touchpoints.campaign_id,
    campaigns.channel_code,
    touchpoints.touched_at,
    touchpoints.touch_type,
    customers.customer_segment,
    customers.country_code
from {{ ref('stg_touchpoints') }} as touchpoints
inner join {{ ref('stg_campaigns') }} as campaigns
    on touchpoints.campaign_id = campaigns.campaign_id
left join {{ core_dim_customers() }} as customers
    on touchpoints.customer_id = customers.customer_id
