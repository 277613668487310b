//! Every file starts from a fresh session's state, as if it ran alone; pgboot's own statements
//! run as the connecting user, whatever role a file switched to. The SQL text for both, sent in
//! the round trips pgboot makes anyway (no extra one).

/// Inside a transaction, before pgboot's own statements: the connecting user, until the
/// transaction ends (a file's session-level `SET ROLE` comes back at commit).
pub const AS_CONNECTING_USER: &str =
    "SET LOCAL SESSION AUTHORIZATION DEFAULT;\nSET LOCAL ROLE NONE;\n";

/// At the start of a step's transaction: the user and role the file's earlier statements set.
pub const REMEMBER_FILE_ROLE: &str = "SELECT set_config('pgboot.file_user', session_user, true), \
     set_config('pgboot.file_role', current_user, true);\n";

/// Before the file's statement, after pgboot's checks: back to the file's user and role.
pub const AS_FILE_ROLE: &str = "DO $pgboot$BEGIN \
     EXECUTE format('SET LOCAL SESSION AUTHORIZATION %I', current_setting('pgboot.file_user')); \
     EXECUTE format('SET LOCAL ROLE %I', current_setting('pgboot.file_role')); END$pgboot$;\n";

/// After a file, outside its transaction: undo what it changed in the session — settings
/// (`search_path`, `statement_timeout` … back to the connection's own, startup options included),
/// role and session authorization, prepared statements, cursors, LISTEN, advisory locks, cached
/// plans, sequence state and temporary objects. `DISCARD ALL` cannot run in a multi-statement
/// query, so its parts, one by one.
pub const RESET: &str = "SET SESSION AUTHORIZATION DEFAULT;\nRESET ROLE;\nRESET ALL;\n\
     DEALLOCATE ALL;\nCLOSE ALL;\nUNLISTEN *;\nSELECT pg_catalog.pg_advisory_unlock_all();\n\
     DISCARD PLANS;\nDISCARD SEQUENCES;\nDISCARD TEMP;\n";

/// PostgreSQL 14+: end this session's statement soon after pgboot is gone (a killed run leaves
/// no backend applying a file for long). Set again after every [`RESET`].
pub const CHECK_CLIENT: &str =
    "DO $pgboot$BEGIN IF current_setting('server_version_num')::int >= 140000 THEN \
     PERFORM set_config('client_connection_check_interval', '1s', false); END IF; END$pgboot$;\n";
