-- Global (not tenant-scoped) reference rows needed by the tenant fixtures.
-- Run as the migration/superuser role (clientforge_app may only read these
-- tables). Idempotent.
INSERT INTO public.permissions (code, description)
VALUES ('contacts:read', 'Read contacts'),
       ('contacts:write', 'Create and edit contacts')
ON CONFLICT (code) DO NOTHING;

INSERT INTO public.plans (code, name, price_monthly, price_yearly, max_users, features)
VALUES ('starter', 'Starter', 29.00, 290.00, 5, '{"ai": false}'),
       ('pro', 'Pro', 99.00, 990.00, NULL, '{"ai": true}')
ON CONFLICT (code) DO NOTHING;
