//! Typed ids: an organisation's, a message's, a client request's. Each is the
//! text the wire and the database carry, in a type of its own, so a function
//! that takes an organisation cannot be handed a message id, and a record's
//! fields say what they hold. They read as `str` (`Deref`), so comparing,
//! formatting and binding them to SQL stays as it was.

use std::{borrow::Borrow, fmt, ops::Deref};

/// Declares a newtype over `String` with the conversions every id shares.
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id with this text.
            pub fn new(text: impl Into<String>) -> $name {
                $name(text.into())
            }

            /// Its text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Its text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> $name {
                $name(text)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> $name {
                $name(text.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

text_id!(
    /// An organisation in the directory (`org_id` on the wire, a token's `org` claim).
    OrgId
);
text_id!(
    /// A message the hub accepted: a UUIDv7 the hub assigns.
    MessageId
);
text_id!(
    /// The sender's idempotency key of a submission: the same key from the
    /// same organisation returns the first answer instead of a second message.
    RequestId
);

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn an_id_reads_as_its_text_and_looks_up_by_it() {
        let org = OrgId::new("org-health-1");
        assert_eq!(org, "org-health-1");
        assert_eq!(org.to_string(), "org-health-1");
        assert!(org.starts_with("org-"));
        let by_org = HashMap::from([(org.clone(), 1)]);
        assert_eq!(by_org.get("org-health-1"), Some(&1));
        let text = org.to_string();
        assert!("org-health-1" == org && text == org && *text == org);
        assert_eq!(String::from(org), "org-health-1");
    }
}
