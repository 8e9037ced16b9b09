-- The mutant: the development seed's sample logins, made at the database's first start in every profile.
\connect crm
\i /usr/local/share/crm-users/samples.sql
