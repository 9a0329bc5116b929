//! The life of a user account as one pure transition table:
//! invited → active (accepting the invitation), invited | active → disabled (an admin),
//! disabled → active (an admin, once a password exists). Commands apply the answer with a
//! conditional UPDATE whose WHERE names the `from` state, so a concurrent change loses cleanly.

use crate::auth::UserStatus;
use crate::error::{ApiError, ConflictCode};

/// What someone asks of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCommand {
    /// The invited person sets a password with the emailed link.
    AcceptInvitation,
    /// An admin sends the invitation again.
    ResendInvitation,
    /// An admin lets the user log in.
    Activate,
    /// An admin stops the user logging in.
    Disable,
}

/// Facts about the account that the table needs besides its status.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserFacts {
    /// The account has a password (it accepted an invitation once).
    pub has_password: bool,
}

/// Why the table refuses a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Only an invited account accepts or receives an invitation.
    NotInvited(UserStatus),
    /// An account without a password cannot be activated by an admin.
    InvitationPending,
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::NotInvited(status) => ApiError::Conflict {
                code: ConflictCode::NotInvited,
                detail: format!("The user is {status}; only invited users get invitations."),
            },
            Refusal::InvitationPending => ApiError::Conflict {
                code: ConflictCode::InvitationPending,
                detail: "The user has not accepted the invitation yet.".into(),
            },
        }
    }
}

/// The status `command` leads to from `from`, or why it may not happen.
pub fn transition(
    from: UserStatus,
    command: UserCommand,
    facts: UserFacts,
) -> Result<UserStatus, Refusal> {
    use UserCommand::*;
    use UserStatus::*;
    match (from, command) {
        (Invited, AcceptInvitation) => Ok(Active),
        (Invited, ResendInvitation) => Ok(Invited),
        (s, AcceptInvitation | ResendInvitation) => Err(Refusal::NotInvited(s)),
        (_, Activate) if !facts.has_password => Err(Refusal::InvitationPending),
        (_, Activate) => Ok(Active),
        (_, Disable) => Ok(Disabled),
    }
}

#[cfg(test)]
mod tests {
    use super::UserCommand::*;
    use super::*;
    use crate::auth::UserStatus::*;

    const NO_PASSWORD: UserFacts = UserFacts {
        has_password: false,
    };
    const PASSWORD: UserFacts = UserFacts { has_password: true };

    #[test]
    fn an_invited_user_becomes_active_by_accepting_the_invitation() {
        assert_eq!(
            transition(Invited, AcceptInvitation, NO_PASSWORD),
            Ok(Active)
        );
    }

    #[test]
    fn an_active_user_cannot_accept_an_invitation_again() {
        assert_eq!(
            transition(Active, AcceptInvitation, PASSWORD),
            Err(Refusal::NotInvited(Active))
        );
    }

    #[test]
    fn a_disabled_user_cannot_accept_an_invitation() {
        assert_eq!(
            transition(Disabled, AcceptInvitation, NO_PASSWORD),
            Err(Refusal::NotInvited(Disabled))
        );
    }

    #[test]
    fn an_invited_user_can_be_sent_the_invitation_again() {
        assert_eq!(
            transition(Invited, ResendInvitation, NO_PASSWORD),
            Ok(Invited)
        );
    }

    #[test]
    fn an_active_user_gets_no_invitation() {
        assert_eq!(
            transition(Active, ResendInvitation, PASSWORD),
            Err(Refusal::NotInvited(Active))
        );
    }

    #[test]
    fn an_invited_user_can_be_disabled() {
        assert_eq!(transition(Invited, Disable, NO_PASSWORD), Ok(Disabled));
    }

    #[test]
    fn an_active_user_can_be_disabled() {
        assert_eq!(transition(Active, Disable, PASSWORD), Ok(Disabled));
    }

    #[test]
    fn a_disabled_user_with_a_password_can_be_activated_again() {
        assert_eq!(transition(Disabled, Activate, PASSWORD), Ok(Active));
    }

    #[test]
    fn a_user_who_never_accepted_cannot_be_activated_by_an_admin() {
        assert_eq!(
            transition(Invited, Activate, NO_PASSWORD),
            Err(Refusal::InvitationPending)
        );
        assert_eq!(
            transition(Disabled, Activate, NO_PASSWORD),
            Err(Refusal::InvitationPending)
        );
    }

    #[test]
    fn activating_an_active_user_changes_nothing() {
        assert_eq!(transition(Active, Activate, PASSWORD), Ok(Active));
    }
}
