select
    cast(channel_code as varchar) as channel_code,
    cast(channel_name as varchar) as channel_name,
    cast(is_paid as boolean) as is_paid
from {{ ref('raw_channels') }}
