//! Property tests: the parsers that take outside input never panic, and what they accept
//! survives a round trip.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canvass_core::{
    config::{DatabaseUrl, NodeConfig},
    id::JurisdictionId,
    name::Name,
};
use proptest::prelude::*;

proptest! {
    #[test]
    fn config_parsing_never_panics(text in "\\PC{0,400}") {
        let _outcome = NodeConfig::parse(&text);
    }

    #[test]
    fn config_parsing_never_panics_on_config_shaped_text(
        section in prop::sample::select(vec!["public", "admin", "tls", "limits", "log", "nonsense"]),
        key in prop::sample::select(vec!["listen", "behind_proxy", "certificate", "private_key", "max_body_bytes", "format"]),
        value in "\\PC{0,40}|[0-9]{1,25}",
    ) {
        let _outcome = NodeConfig::parse(&format!("[{section}]\n{key} = {value}\n"));
        let _quoted = NodeConfig::parse(&format!("[{section}]\n{key} = \"{}\"\n", value.replace(['"', '\\'], "")));
    }

    #[test]
    fn accepted_ids_round_trip(text in "\\PC{0,60}") {
        if let Ok(id) = JurisdictionId::parse(&text) {
            prop_assert_eq!(id.as_str(), text.as_str());
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<JurisdictionId>(&json).unwrap(), id);
        }
    }

    #[test]
    fn ocd_shaped_ids_are_accepted(state in "[a-z]{2}", county in "[a-z][a-z_~.-]{0,20}") {
        let text = format!("ocd-division/country:us/state:{state}/county:{county}");
        prop_assert!(JurisdictionId::parse(&text).is_ok(), "{}", text);
    }

    #[test]
    fn names_never_panic_and_never_keep_control_characters(text in "\\PC{0,300}|[\\x00-\\x1f]{1,5}") {
        if let Ok(name) = Name::parse(&text) {
            prop_assert!(!name.as_str().chars().any(char::is_control));
            prop_assert_eq!(name.as_str(), text.trim());
        }
    }

    #[test]
    fn database_urls_never_show_their_password(user in "[a-z]{1,8}", password in "[A-Za-z0-9]{6,20}", host in "[a-z]{1,10}") {
        let url = DatabaseUrl::parse(&format!("postgres://{user}:{password}@{host}/canvass")).unwrap();
        prop_assert!(url.has_password());
        prop_assert!(!url.redacted().contains(&password));
        let debug = format!("{:?}", url);
        prop_assert!(!debug.contains(&password));
    }
}
