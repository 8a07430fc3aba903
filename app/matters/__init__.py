"""Public lawyers' matters (公职律师法律事务): assignment, handling and feedback (指派、承办、反馈),
deployment across units (调配), the decision list (决策事项清单) and the counts for assessment."""
