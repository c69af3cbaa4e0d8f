with conversions as (
    select
        campaign_id,
        count(*) as conversions,
        sum(attributed_revenue) as attributed_revenue
    from {{ ref('fct_attribution') }}
    group by campaign_id
)

select
    campaigns.campaign_id,
    campaigns.channel_code,
    cast(coalesce(conversions.conversions, 0) as integer) as conversions,
    cast(coalesce(conversions.attributed_revenue, 0) as decimal(12, 2)) as attributed_revenue,
    campaigns.total_spend,
    cast(campaigns.total_spend / nullif(conversions.conversions, 0) as double) as cost_per_conversion,
    cast(conversions.attributed_revenue / nullif(campaigns.total_spend, 0) as double) as return_on_ad_spend
from {{ ref('dim_campaigns') }} as campaigns
left join conversions
    on campaigns.campaign_id = conversions.campaign_id
