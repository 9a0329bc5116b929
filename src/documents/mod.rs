//! Documents: files on grants, reports, tranches, organisations and membership applications.
//! Uploads stream through type sniffing, hashing and encryption into a local folder or an
//! S3-compatible bucket; the store never sees plaintext and no whole file is held in memory.

pub mod api;
pub mod crypt;
pub mod model;
pub mod parent;
pub mod service;
pub mod sniff;
pub mod store;
pub mod sweep;
pub mod verify;

pub use model::{Document, DocumentKind, DocumentRow, ParentType};
