-- A campaign ends on or after the day it starts.
select campaign_id, start_date, end_date
from {{ ref('dim_campaigns') }}
where end_date < start_date
