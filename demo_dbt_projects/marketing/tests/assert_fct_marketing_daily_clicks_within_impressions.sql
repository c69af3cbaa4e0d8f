-- More clicks than impressions means a reporting feed is double counting.
{{ config(severity='warn') }}
select activity_date, impressions, clicks
from {{ ref('fct_marketing_daily') }}
where clicks > impressions
