from tests.service.training.fixtures import _no_alert_delivery_left_behind, train_settings

__all__ = ["_no_alert_delivery_left_behind", "train_settings"]
