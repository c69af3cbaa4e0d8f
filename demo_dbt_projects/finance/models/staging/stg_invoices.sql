select
    cast(id as integer) as invoice_id,
    cast(order_id as integer) as order_id,
    cast(invoice_number as varchar) as invoice_number,
    cast(issued_date as date) as issued_date,
    cast(due_date as date) as due_date,
    cast(status as varchar) as invoice_status
from {{ ref('raw_invoices') }}
