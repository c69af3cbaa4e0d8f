"""The diff: what changed between two contracts, each change judged in both directions (SPEC §5).

``backward_breaking``: existing (old) consumers cannot read data of the new contract.
``forward_breaking``: new consumers cannot read data written under the old contract
(history, backfills). The verdict decides what breaks under a given mode; the diff only says,
per change, which direction it breaks:

====================================================  ========  =======
change                                                backward  forward
====================================================  ========  =======
column removed (a rename is a remove plus an add)     breaking  ok
column added                                          ok        breaking
type widened (int→bigint, varchar(10)→varchar(50))    breaking  ok
type narrowed                                         ok        breaking
type changed to an unrelated type                     breaking  breaking
type unknown (not recognised, cannot be compared)     breaking  breaking
guarantee loosened (dropped, value added, widened)    breaking  ok
guarantee tightened (added, value removed, narrowed)  ok        breaking
guarantee changed both ways                           breaking  breaking
relation removed or moved                             breaking  ok
description, column order, mode                       ok        ok
====================================================  ========  =======

From the bottom up: :mod:`.change` (the :class:`~.change.Change` every part returns),
:mod:`.guarantees` (what a guarantee promises: its key, its label, one per meaning),
:mod:`.columns` and :mod:`.guarantee_changes` (what moved in each), :mod:`.relations` (a relation
removed or moved) and :mod:`.contract` (:func:`~.contract.diff_contracts`, the outline).
"""
