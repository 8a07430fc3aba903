"""督导考核: the adviser pool (人才库), contract filing (备案), work records (服务记录),
annual assessments (考核) and the quarterly ranking of units, with the inspector's dashboard.

Services are plain functions taking a session and a principal; the access policy
(app/access/policy.py) decides who may see or do what, and every act of consequence is audited.
"""
