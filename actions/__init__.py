"""The actions layer: action codes, the playbook, risk tiers and the one ranking of actions.

Training (the uplift learner, the policy evaluation) and serving both import from here;
nothing here imports training or serving.
"""
