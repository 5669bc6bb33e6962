"""The REST API (`create_app`), served by `sahelcast serve`; OpenAPI docs at /docs and /redoc.

Under /v1: the series catalogue and histories, published forecasts (JSON or CSV), rainy-season
effects and the engine's drivers, accuracy of past runs, anomalies and escalations, runs and
jobs, admin uploads, retrains and fetches, and alert subscriptions. /health, /ready and
/metrics sit at the root.
"""
