select
    cast(date_trunc('month', expense_date) as date) as expense_month,
    account_code,
    cast(sum(amount) as decimal(12, 2)) as expense_amount
from {{ ref('stg_expenses') }}
group by 1, 2
