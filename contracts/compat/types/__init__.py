"""Column types: one canonical spelling per type, and a widening lattice between them.

The warehouses dbt talks to spell the same type many ways (``INT4``, ``int``, ``INTEGER``,
``INT64``) and give lengths and precision in their own syntax. From the bottom up:

* :mod:`.spellings` — the names every warehouse may write for a type, family by family;
* :mod:`.warehouses` — what a name means on one warehouse (``metadata.adapter_type``), applied
  first: Snowflake's ``BIGINT`` is ``NUMBER(38,0)``, BigQuery's ``INTEGER`` is ``INT64``;
* :mod:`.info` — a parsed type (:class:`~.info.TypeInfo`) and its canonical spelling;
* :mod:`.parse` — a raw spelling in, a ``TypeInfo`` out (:func:`~.parse.normalize_type`);
* :mod:`.widening` — the lattice: is a change ``same``, ``wider``, ``narrower``, ``unrelated``,
  ``unknown`` or ``structural`` (:func:`~.widening.compare_types`, :func:`~.widening.type_deltas`).
"""
