//! Identifier newtypes. Every id is a UUIDv7: sortable by creation time and
//! not guessable, so a wrong-tenant probe learns nothing from the id space.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered random id.
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            #[must_use]
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.as_hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A customer organisation.
    TenantId
);
id_type!(
    /// A person who logs in: MSSP staff or customer staff.
    UserId
);
id_type!(
    /// A portal session (the cookie carries a separate secret, never this id).
    SessionId
);
id_type!(
    /// An API bearer token (the secret is shown once and stored hashed).
    TokenId
);
id_type!(
    /// One record of the audit chain.
    AuditId
);
id_type!(
    /// A host, device or cloud resource in a tenant's inventory.
    AssetId
);
id_type!(
    /// A vulnerability reported on an asset.
    FindingId
);
id_type!(
    /// A tenant network range (CIDR with a zone).
    RangeId
);
id_type!(
    /// One import of a file (asset list, scan report, vulnerability data).
    ImportId
);
id_type!(
    /// Alerts grouped by detector, tenant and key within a window.
    OffenseId
);
id_type!(
    /// A comment on an offense.
    CommentId
);
id_type!(
    /// A ticket: work shared by the MSSP and the customer.
    TicketId
);
id_type!(
    /// One status change of a ticket.
    TicketChangeId
);
id_type!(
    /// A comment on a ticket.
    TicketCommentId
);
id_type!(
    /// A false-positive suppression of a detector for a key.
    SuppressionId
);
id_type!(
    /// One normalised security event.
    EventId
);
id_type!(
    /// A threat-intelligence indicator (address, domain, hash, ...).
    IndicatorId
);
id_type!(
    /// A tenant's HTTP ingest token (the secret is shown once and stored
    /// hashed).
    IngestTokenId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_version_7() {
        let id = TenantId::new();
        assert_eq!(id.as_uuid().get_version_num(), 7);
        let parsed: TenantId = id.to_string().parse().expect("parses");
        assert_eq!(parsed, id);
        assert!("not-a-uuid".parse::<TenantId>().is_err());
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = UserId::new();
        let b = UserId::new();
        assert!(a < b);
    }
}
