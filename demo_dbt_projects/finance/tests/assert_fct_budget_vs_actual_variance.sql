-- Variance is actual minus budget, never the other way round.
select budget_month, account_code, budget_amount, actual_amount, variance_amount
from {{ ref('fct_budget_vs_actual') }}
where variance_amount != actual_amount - budget_amount
