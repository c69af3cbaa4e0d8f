-- Outstanding is what is left to pay on a live invoice; a void invoice owes nothing.
select invoice_id, invoice_amount, paid_amount, outstanding_amount
from {{ ref('fct_invoices') }}
where (invoice_status = 'void' and outstanding_amount != 0)
   or (invoice_status != 'void' and outstanding_amount != greatest(invoice_amount - paid_amount, 0))
