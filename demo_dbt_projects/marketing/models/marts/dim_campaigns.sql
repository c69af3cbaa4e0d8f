with spend as (
    select
        campaign_id,
        sum(spend_amount) as total_spend,
        sum(impressions) as total_impressions,
        sum(clicks) as total_clicks
    from {{ ref('stg_ad_spend') }}
    group by campaign_id
)

select
    campaigns.campaign_id,
    campaigns.campaign_name,
    campaigns.channel_code,
    channels.channel_name,
    channels.is_paid,
    campaigns.objective,
    campaigns.start_date,
    campaigns.end_date,
    campaigns.budget_amount,
    cast(coalesce(spend.total_spend, 0) as decimal(12, 2)) as total_spend,
    cast(coalesce(spend.total_impressions, 0) as bigint) as total_impressions,
    cast(coalesce(spend.total_clicks, 0) as integer) as total_clicks
from {{ ref('stg_campaigns') }} as campaigns
inner join {{ ref('stg_channels') }} as channels
    on campaigns.channel_code = channels.channel_code
left join spend
    on campaigns.campaign_id = spend.campaign_id
