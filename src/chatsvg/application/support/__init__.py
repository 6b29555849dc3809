"""Support: messages from users to the support inbox."""
