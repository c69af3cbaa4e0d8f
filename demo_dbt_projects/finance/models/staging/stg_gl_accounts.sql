select
    cast(account_code as varchar) as account_code,
    cast(account_name as varchar) as account_name,
    cast(account_type as varchar) as account_type,
    cast(department as varchar) as department
from {{ ref('raw_gl_accounts') }}
