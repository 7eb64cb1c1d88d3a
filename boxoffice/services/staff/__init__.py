"""Staff: who is acting and what their role allows, sign-in, staff accounts, the audit trail."""
