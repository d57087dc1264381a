"""Rules of each request kind beyond copies of records (DOMAIN.md "Request kinds")."""
