-- Payments outside the trading period point at a clock or import problem; worth a look,
-- not worth stopping the build for.
{{ config(severity='warn') }}
select payment_id, paid_at
from {{ ref('fct_payments') }}
where paid_at < timestamp '2025-01-01 00:00:00'
   or paid_at >= timestamp '2025-07-01 00:00:00'
