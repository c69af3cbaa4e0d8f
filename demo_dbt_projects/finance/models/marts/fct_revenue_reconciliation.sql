-- Per month: what core says was sold and received, against what finance invoiced.
with invoiced as (
    select
        cast(date_trunc('month', issued_date) as date) as invoice_month,
        sum(invoice_amount) as invoiced_amount
    from {{ ref('fct_invoices') }}
    where invoice_status != 'void'
    group by 1
)

select
    revenue.revenue_month,
    revenue.net_revenue,
    revenue.payments_received,
    cast(coalesce(invoiced.invoiced_amount, 0) as decimal(12, 2)) as invoiced_amount,
    cast(revenue.net_revenue - coalesce(invoiced.invoiced_amount, 0) as decimal(12, 2)) as uninvoiced_amount
from {{ ref('int_revenue_monthly') }} as revenue
left join invoiced
    on revenue.revenue_month = invoiced.invoice_month
