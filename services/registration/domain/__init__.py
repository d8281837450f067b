"""Registration's rules: plain functions over plain values that return the events they cause."""
