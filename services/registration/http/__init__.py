"""The registration HTTP API: thin routes that decode, call the service, and render views."""
