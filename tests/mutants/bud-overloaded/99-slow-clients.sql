\connect crm
-- Restrictive policies are ANDed with the tenant policy: every statement on clients
-- now waits 250 ms (the uncorrelated subquery runs once per statement).
CREATE POLICY clients_slow ON clients AS RESTRICTIVE FOR ALL
    USING ((SELECT pg_sleep(0.25)::text) IS NOT NULL)
    WITH CHECK (true);
