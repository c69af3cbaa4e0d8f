select
    cast(id as integer) as campaign_id,
    cast(name as varchar) as campaign_name,
    cast(channel_code as varchar) as channel_code,
    cast(objective as varchar) as objective,
    cast(start_date as date) as start_date,
    cast(end_date as date) as end_date,
    cast(budget as decimal(12, 2)) as budget_amount
from {{ ref('raw_campaigns') }}
