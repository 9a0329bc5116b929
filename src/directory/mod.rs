//! The network directory: organisations (members and partners), their profiles and who may
//! see which part of them, search, facets and export, membership applications and the
//! membership lifecycle.

pub mod api;
pub mod applications;
pub mod identifiers;
pub mod jobs;
pub mod membership;
pub mod organisation;
pub mod renewal;
pub mod search;
pub mod visibility;

// What other domains use of the directory: its paths inside this module may change, these
// do not.
pub use organisation::{
    NewOrganisation, OrganisationKind, OrganisationRow, PartnerType, create, insert, new_row,
    slugify, to_json_list,
};
pub use visibility::Viewer;
