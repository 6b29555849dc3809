"""The admin page: who may sign in to it, and its figures."""
