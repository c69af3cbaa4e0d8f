-- Actuals: revenue accounts from core's revenue, cost accounts from booked expenses.
with revenue_actuals as (
    select revenue_month as actual_month, '4000' as account_code, gross_revenue - discount_amount as actual_amount
    from {{ ref('int_revenue_monthly') }}
    union all
    select revenue_month, '4100', shipping_revenue
    from {{ ref('int_revenue_monthly') }}
),

actuals as (
    select actual_month, account_code, actual_amount from revenue_actuals
    union all
    select expense_month, account_code, expense_amount from {{ ref('int_expenses_monthly') }}
)

select
    budgets.budget_month,
    budgets.account_code,
    accounts.account_type,
    budgets.budget_amount,
    cast(coalesce(actuals.actual_amount, 0) as decimal(12, 2)) as actual_amount,
    cast(coalesce(actuals.actual_amount, 0) - budgets.budget_amount as decimal(12, 2)) as variance_amount,
    cast((coalesce(actuals.actual_amount, 0) - budgets.budget_amount) / nullif(budgets.budget_amount, 0) as double)
        as variance_pct
from {{ ref('stg_budgets') }} as budgets
inner join {{ ref('dim_gl_accounts') }} as accounts
    on budgets.account_code = accounts.account_code
left join actuals
    on budgets.budget_month = actuals.actual_month
    and budgets.account_code = actuals.account_code
