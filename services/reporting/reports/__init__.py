"""The reports for people: network, forums, one forum, the funnel, e-mail — as JSON and CSV."""
