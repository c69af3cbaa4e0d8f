select
    cast(id as integer) as customer_id,
    cast(first_name as varchar) as first_name,
    cast(last_name as varchar) as last_name,
    cast(lower(email) as varchar) as email,
    cast(upper(country_code) as varchar) as country_code,
    cast(signup_date as date) as signup_date
from {{ ref('raw_customers') }}
