# shipped-notebooks.sh — sourced by test.sh (its shipped and shipcheck stages) and by
# check-fresh.sh (which counts their executions): the notebooks that open on the shipped
# results with training forbidden. At the cpu budget (notebooks/results-cpu-budget) every
# analysis notebook; at the full budget (notebooks/results-full-budget) those whose
# experiments ship whole there (01 also draws the sweeps, which ship at cpu only).
# Globs relative to notebooks/.
CMEMAE_SHIPPED_CPU_NOTEBOOKS='0[1-4]_*.ipynb'
CMEMAE_SHIPPED_FULL_NOTEBOOKS='0[2-4]_*.ipynb'
