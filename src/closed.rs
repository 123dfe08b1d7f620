//! Closed sets written once: [`closed_set!`] declares an enum together with the text of each
//! variant, and derives from that one table everything that used to be typed again by hand —
//! the list of all variants (`ALL`, for one-hot metric labels and key lists), `as_str`,
//! `parse` (for text read back from history or YAML), `Display` and `Serialize` (the text).
//! A variant cannot exist without its text, and the text is never spelled a second time.
//!
//! A value also reads as its text (`Deref<Target = str>`, `== "text"`), so code that held
//! the text before — callers of the library, tests over stored rows — reads it the same way.

/// Declares a closed set. Each variant is written `Variant => "text"`:
///
/// ```ignore
/// closed_set! {
///     /// Doc of the enum.
///     #[derive(PartialOrd, Ord)]
///     pub enum Colour { Red => "red", Green => "green" }
/// }
/// ```
///
/// The enum is always `Clone, Copy, Debug, PartialEq, Eq, Hash`; further derives may be given.
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        // A set private to a module (a board state) may not need every derived item.
        #[allow(dead_code)]
        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The variant's text: its label, JSON value, history column and YAML key.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The variant whose text is `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

pub(crate) use closed_set;

#[cfg(test)]
mod tests {
    closed_set! {
        enum Colour {
            Red => "red",
            /// A documented variant.
            DarkGreen => "dark_green",
        }
    }

    #[test]
    fn text_and_variants_come_from_one_table() {
        assert_eq!(Colour::ALL, &[Colour::Red, Colour::DarkGreen]);
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()), Some(*c));
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(Colour::parse("green"), None);
        assert_eq!(Colour::Red, "red");
        assert_eq!(Some(Colour::Red).as_deref(), Some("red"));
        assert_eq!(
            serde_json::to_string(&Colour::DarkGreen).unwrap(),
            "\"dark_green\""
        );
    }
}
