"""The REST API (`create_app`), served by `sahelcast serve`; OpenAPI docs at /docs and /redoc.

Under /v1: the series catalogue and histories, published forecasts (JSON or CSV), rainy-season
effects and model drivers, accuracy of past runs, anomalies, runs and jobs, admin uploads and
retrains, and alert subscriptions. /health, /ready and /metrics sit at the root.
"""
