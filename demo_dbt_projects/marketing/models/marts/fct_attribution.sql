-- One row per attributed order; country and segment come from core's dim_customers.
select
    attribution.order_id,
    attribution.customer_id,
    attribution.campaign_id,
    campaigns.channel_code,
    attribution.order_date,
    attribution.order_amount as attributed_revenue,
    attribution.days_to_convert,
    customers.customer_segment,
    customers.country_code
from {{ ref('int_order_attribution') }} as attribution
inner join {{ ref('stg_campaigns') }} as campaigns
    on attribution.campaign_id = campaigns.campaign_id
left join {{ core_dim_customers() }} as customers
    on attribution.customer_id = customers.customer_id
where attribution.campaign_id is not null
