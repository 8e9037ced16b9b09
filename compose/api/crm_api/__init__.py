"""Multi-tenant CRM API (Starlette + psycopg + Redis)."""
