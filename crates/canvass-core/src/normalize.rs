//! How values are normalised before a blind index is computed. Part of each index's
//! definition: change a rule and every stored index value must be recomputed.
//!
//! - Names: Unicode compatibility decomposition (NFKD), combining marks dropped, letters kept
//!   and upper-cased, everything else removed: "O'Brien-Núñez" -> "OBRIENNUNEZ".
//! - Dates: `YYYYMMDD`.
//! - Identifiers (driver's licence, SSN digits): ASCII letters and digits, upper-cased:
//!   "nc 123-456" -> "NC123456".

use time::Date;
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

pub fn name(value: &str) -> String {
    value.nfkd().filter(|c| !is_combining_mark(*c)).filter(|c| c.is_alphabetic()).flat_map(char::to_uppercase).collect()
}

pub fn date(value: Date) -> String {
    format!("{:04}{:02}{:02}", value.year(), u8::from(value.month()), value.day())
}

pub fn identifier(value: &str) -> String {
    value.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    #[test]
    fn normalisation_rules() {
        let names = [
            ("O'Brien-Núñez", "OBRIENNUNEZ"),
            ("  smith ", "SMITH"),
            ("José", "JOSE"),
            ("ﬁnch", "FINCH"),
            ("Zoë", "ZOE"),
        ];
        for (input, expected) in names {
            assert_eq!(super::name(input), expected, "{input}");
        }
        assert_eq!(super::date(date!(1980 - 02 - 09)), "19800209");
        assert_eq!(super::identifier("nc 123-456"), "NC123456");
        assert_eq!(super::identifier("12 34"), "1234");
    }
}
