select
    cast(id as integer) as budget_id,
    cast(budget_month as date) as budget_month,
    cast(account_code as varchar) as account_code,
    cast(amount as decimal(12, 2)) as budget_amount
from {{ ref('raw_budgets') }}
