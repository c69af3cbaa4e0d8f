-- Operating income is revenue minus cost of sales minus operating expenses.
select pnl_month, revenue, cost_of_sales, operating_expenses, operating_income
from {{ ref('fct_pnl_monthly') }}
where operating_income != revenue - cost_of_sales - operating_expenses
   or gross_profit != revenue - cost_of_sales
