//! Everything that talks to the server below the migration logic: the connection (with its
//! NOTICE pump and cancel token), TLS, waiting for readiness, creating the database, cancelling
//! on a signal, and quoting (the only copy).

pub mod createdb;
pub mod db;
pub mod quote;
pub mod session;
pub mod shutdown;
pub mod tls;
pub mod wait;

pub use db::Db;
