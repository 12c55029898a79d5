"""Family members who help with a case: invitations and grants."""
