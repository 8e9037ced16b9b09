-- crm-user remove: the logins on stdin (tenant, e-mail; COPY text format) are deleted, in one transaction.
-- Rows that name them (employees.user_id, tasks.assignee_id) keep their data: the foreign keys set NULL.
BEGIN;
CREATE TEMP TABLE leaving (tenant text NOT NULL, email public.citext NOT NULL) ON COMMIT DROP;
\copy leaving FROM pstdin
DELETE FROM public.users u
 USING leaving l JOIN public.tenants t ON t.slug = l.tenant
 WHERE u.tenant_id = t.id AND u.email = l.email;
COMMIT;
