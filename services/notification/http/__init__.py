"""The notification service's staff API: the deliveries, and retrying a failed one."""
