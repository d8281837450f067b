"""The notification service's pages: unsubscribing from invitations."""
