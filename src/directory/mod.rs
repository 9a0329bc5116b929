//! The network directory: organisations (members and partners), their profiles and who may
//! see which part of them, search, facets and export, membership applications and the
//! membership lifecycle.

pub mod api;
pub mod jobs;
pub mod membership;
pub mod model;
pub mod search;
pub mod service;

// What other domains use of the directory: its paths inside this module may change, these
// do not.
pub use model::{NewOrganisation, OrganisationKind, OrganisationRow, PartnerType, to_json_list};
pub use service::{create, insert, new_row, slugify};
