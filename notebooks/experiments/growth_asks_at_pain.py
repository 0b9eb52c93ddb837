"""Issue 11 (eighth new-user audit): no growth ask while a pain fact is present (paired).

The audit's CSM read "The account's admin left on 3 Mar and nobody has taken their place"
beside a recommended referral invite: growth asks (`actions.ranking.GROWTH_ASKS`) are
withheld at high and medium churn risk only, and the cause rules fire only there, so a
low-risk account with an unreplaced key user or urgent tickets open is asked for growth.

Variant: besides `NO_PITCH_TIERS`, no growth ask for a snapshot with a pain fact, at any
risk tier: `key_users_lost_unreplaced_90d >= 1`, `open_tickets_urgent >= 1` or
`first_value_overdue == 1` (the facts of the playbook's rules "key user left and not
replaced", "urgent support issues open" and "first value overdue"). Nothing else moves.

Rule, written before any run (29 November 2026):
- tuning structure seeds 1-6, two learner seeds each, the shipped settings, the same fitted
  models judging both: the variant is kept only if its net mean share of the best choice is
  at most 0.5 points below the shipped ranking's and its worst world at most 2 points below;
- only then, once, fresh structure seeds 47-50 and 73-76 (never used), two learner seeds:
  shipped only if the same holds there. Reported either way in docs/results.md.
"""
