//! Enums with one stable code per variant: the code is what the database stores, what the
//! JSON API reads and writes, what translation keys end in, and what forms offer. Each
//! enum declares its codes once, with [`coded_enum!`], and gets everything else from that.

/// Declares a unit enum whose variants each have a snake_case code, with:
/// `ALL` (every variant, in order), `CODES` (their codes, for choice lists),
/// `code()`, `parse()`, `Display`/`FromStr`, and serde as the code.
#[macro_export]
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every code, in declaration order.
            pub const CODES: &'static [&'static str] = &[$($code),+];

            /// The stable code.
            pub const fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The variant with this code.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::codes::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s).ok_or($crate::codes::UnknownCode)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    <D::Error as ::serde::de::Error>::unknown_variant(&s, $name::CODES)
                })
            }
        }
    };
}

/// A string that is none of an enum's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownCode;

impl std::fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unknown code")
    }
}

impl std::error::Error for UnknownCode {}

#[cfg(test)]
mod tests {
    coded_enum! {
        enum Colour {
            Red = "red",
            DarkBlue = "dark_blue",
        }
    }

    #[test]
    fn codes_round_trip_through_text_and_json() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.code()), Some(*c));
            let j = serde_json::to_value(c).unwrap();
            assert_eq!(j, serde_json::json!(c.code()));
            assert_eq!(serde_json::from_value::<Colour>(j).unwrap(), *c);
        }
        assert_eq!(Colour::CODES, &["red", "dark_blue"]);
        assert_eq!(Colour::DarkBlue.to_string(), "dark_blue");
        assert!(serde_json::from_str::<Colour>("\"green\"").is_err());
        assert!("green".parse::<Colour>().is_err());
    }
}
