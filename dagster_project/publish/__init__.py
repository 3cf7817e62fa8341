"""Write-audit-publish: the audited marts, and nothing else, copied to the serving database for BI."""
