"""Escalations: flagged months of one tree grouped into one alertable event.

`service.group` puts newly flagged anomalies into escalations (detection calls it);
`repository` holds every query (the API, the CLI, the dashboard and the alerts read through
it); `state` is what an escalation has shown so far, the one definition both use.
The package reads the anomalies' table and severity names, never their detection code.
"""
