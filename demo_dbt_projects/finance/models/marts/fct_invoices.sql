select
    invoices.invoice_id,
    invoices.invoice_number,
    invoices.order_id,
    payments.customer_id,
    invoices.issued_date,
    invoices.due_date,
    invoices.invoice_status,
    payments.invoice_amount,
    payments.paid_amount,
    cast(
        case when invoices.invoice_status = 'void' then 0
        else greatest(payments.invoice_amount - payments.paid_amount, 0) end
        as decimal(12, 2)
    ) as outstanding_amount,
    invoices.invoice_status != 'void'
        and payments.paid_amount < payments.invoice_amount
        and invoices.due_date < date '{{ var("finance_as_of_date") }}' as is_overdue
from {{ ref('stg_invoices') }} as invoices
inner join {{ ref('int_invoice_payments') }} as payments
    on invoices.invoice_id = payments.invoice_id
