select
    cast(id as integer) as spend_id,
    cast(campaign_id as integer) as campaign_id,
    cast(spend_date as date) as spend_date,
    cast(impressions as integer) as impressions,
    cast(clicks as integer) as clicks,
    cast(spend as decimal(12, 2)) as spend_amount
from {{ ref('raw_ad_spend') }}
