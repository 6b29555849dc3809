"""Mail: SMTP and file mailers, and mail templates."""
