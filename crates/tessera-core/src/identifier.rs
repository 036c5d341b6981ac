//! String identifiers as distinct types, so a session id is never passed where a user id goes.

/// Declares a `String` newtype with `new`, `as_str`, `Display` and serde as a plain string.
macro_rules! string_identifier {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an identifier as stored or as received.
            pub fn new(value: impl Into<String>) -> $name {
                $name(value.into())
            }

            /// A fresh random identifier (128 bits).
            pub fn generate(random: &dyn $crate::random::Random) -> Result<$name, $crate::error::CoreError> {
                Ok($name($crate::random::random_id(random)?))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub(crate) use string_identifier;
