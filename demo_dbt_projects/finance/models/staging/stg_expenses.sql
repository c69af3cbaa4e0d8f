select
    cast(id as integer) as expense_id,
    cast(expense_date as date) as expense_date,
    cast(account_code as varchar) as account_code,
    cast(vendor as varchar) as vendor_name,
    cast(amount as decimal(12, 2)) as amount
from {{ ref('raw_expenses') }}
