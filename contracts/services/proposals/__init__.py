"""The acknowledgment workflow (SPEC §6): proposals open, collect answers, resolve, publish.

Who may do what is enforced here, not only in views: a team answers only for itself, the owner
team never approves its own proposal, only the producer withdraws, only a producer lead or an
admin forces. Emails are never sent from here: they are recorded in the outbox, in the change's
transaction.

One module a stage; callers import from the module that does what they need:

- ``opening``: ``proposal_open`` (idempotent on the content; supersedes the open proposals it replaces)
- ``answering``: ``acknowledgment_record`` and the status the answers add up to
- ``publishing``: ``proposal_publish``, ``proposal_force``, ``proposals_release_held``,
  ``proposal_publish_matching_check``
- ``closing``: ``proposal_withdraw``, ``proposal_expire_due``, ``proposal_close`` (the warehouse overtook it)
- ``lifecycle``: the moves they share (lock, require open, end with a terminal status)

Imports run one way: opening → answering → publishing → lifecycle ← closing.
"""
