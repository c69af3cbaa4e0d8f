select
    account_code,
    account_name,
    account_type,
    department,
    account_type = 'revenue' as is_revenue
from {{ ref('stg_gl_accounts') }}
