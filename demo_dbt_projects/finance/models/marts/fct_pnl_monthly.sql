with lines as (
    select budget_month, account_type, sum(actual_amount) as amount
    from {{ ref('fct_budget_vs_actual') }}
    group by 1, 2
),

months as (
    select
        budget_month as pnl_month,
        sum(case when account_type = 'revenue' then amount else 0 end) as revenue,
        sum(case when account_type = 'cogs' then amount else 0 end) as cost_of_sales,
        sum(case when account_type = 'opex' then amount else 0 end) as operating_expenses
    from lines
    group by 1
)

select
    pnl_month,
    cast(revenue as decimal(12, 2)) as revenue,
    cast(cost_of_sales as decimal(12, 2)) as cost_of_sales,
    cast(operating_expenses as decimal(12, 2)) as operating_expenses,
    cast(revenue - cost_of_sales as decimal(12, 2)) as gross_profit,
    cast(revenue - cost_of_sales - operating_expenses as decimal(12, 2)) as operating_income,
    cast((revenue - cost_of_sales) / nullif(revenue, 0) as double) as gross_margin_pct
from months
