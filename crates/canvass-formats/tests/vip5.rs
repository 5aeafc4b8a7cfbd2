//! The VIP 5 feed reader against the Voting Information Project's sample feed (Albemarle County,
//! Virginia, 2013), the example fragments shipped beside it, small hand-written feeds for what
//! the sample lacks, and documents broken in each way a download or an export can break them.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use canvass_formats::FormatsError;
use canvass_formats::vip5::{IdentifierType, TimeWithZone, Vip5Feed, read_feed};
use proptest::prelude::*;
use time::macros::date;

const SAMPLE: &str = "../../../shared/data/vip5/sample_feed_v5.xml";
const EXAMPLES: &str = "../../../shared/data/vip5/examples";

fn shared(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn sample() -> Vec<u8> {
    std::fs::read(shared(SAMPLE)).unwrap()
}

fn read(text: &str) -> Result<Vip5Feed, FormatsError> {
    read_feed(Cursor::new(text.as_bytes().to_vec()))
}

/// A feed around `body`, its first line the root's start tag.
fn feed(body: &str) -> String {
    format!("<VipObject schemaVersion=\"5.2\">\n{body}\n</VipObject>\n")
}

fn refusal(result: Result<Vip5Feed, FormatsError>) -> String {
    match result {
        Err(FormatsError::Refused(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_sample_feed_reads_and_its_precincts_find_their_polling_places() {
    let feed = read_feed(Cursor::new(sample())).unwrap();
    assert_eq!(feed.schema_version.as_deref(), Some("5.2"));
    assert_eq!(
        (
            feed.states.len(),
            feed.localities.len(),
            feed.precincts.len(),
            feed.polling_locations.len(),
            feed.hours_open.len(),
            feed.election_administrations.len()
        ),
        (1, 2, 32, 27, 3, 2)
    );
    assert_eq!(feed.unresolved_references(), Vec::<String>::new());

    let virginia = &feed.states["st51"];
    assert_eq!(virginia.name.as_deref(), Some("Virginia"));
    assert_eq!(virginia.ocd_id(), Some("ocd-division/country:us/state:va"));
    assert_eq!(virginia.external_identifiers[1].identifier_type, IdentifierType::Fips);
    assert_eq!(virginia.election_administration_id.as_deref(), Some("ea40133"));

    let albemarle = &feed.localities["loc70001"];
    assert_eq!(
        (albemarle.name.as_deref(), albemarle.state_id.as_str(), albemarle.district_type.as_deref()),
        (Some("ALBEMARLE COUNTY"), "st51", Some("county"))
    );
    assert_eq!(albemarle.ocd_id(), Some("ocd-division/country:us/state:va/county:albemarle"));
    assert!(!albemarle.is_mail_only);
    assert!(feed.localities["loc70002"].is_mail_only);

    let georgetown = &feed.precincts["pre90111"];
    assert_eq!(
        (georgetown.name.as_deref(), georgetown.number.as_deref(), georgetown.locality_id.as_str()),
        (Some("203 - GEORGETOWN"), Some("0203"), "loc70001")
    );
    assert_eq!(georgetown.electoral_district_ids, ["ed60129", "ed60311", "ed60054"]);
    assert_eq!(georgetown.ballot_style_id.as_deref(), Some("bs00010"));
    let places = feed.polling_places_for("pre90111");
    let ids: Vec<&str> = places.iter().map(|place| place.id.as_str()).collect();
    assert_eq!(ids, ["pl00000", "pl81273", "pl81274"]);
    assert_eq!(places[1].name.as_deref(), Some("ALBEMARLE HIGH SCHOOL"));
    assert_eq!(places[1].address_text(), "2775 Hydraulic Rd, Charlottesville, VA 229018917");
    assert!(places[1].is_early_voting && !places[2].is_early_voting);

    // The county-wide early voting centre: a structured address and no name.
    let centre = places[0];
    assert_eq!(centre.name, None);
    assert_eq!(centre.address_text(), "2775 Hydraulic Rd, CHARLOTTESVILLE, VA 22901");
    assert!(centre.is_drop_box && centre.is_early_voting);
    let coordinates = centre.coordinates.as_ref().unwrap();
    assert_eq!((coordinates.latitude, coordinates.longitude), (38.009939, -78.506204));
    let early = feed.hours_for(centre).unwrap();
    assert_eq!(early.id, "hours0002");
    assert_eq!(early.schedules.len(), 3);
    assert_eq!(
        (early.schedules[0].start_date, early.schedules[0].end_date),
        (Some(date!(2013 - 10 - 21)), Some(date!(2013 - 10 - 26)))
    );
    let first = early.schedules[0].hours[0];
    assert_eq!((first.start.to_string(), first.end.to_string()), ("07:00:00-04:00".into(), "19:00:00-04:00".into()));
    // Clocks fall back before the last day of early voting.
    assert_eq!(early.schedules[2].hours[0].start.offset().whole_hours(), -5);

    let election_day = &feed.hours_open["hours0001"];
    let hours = election_day.schedules[0].hours[0];
    assert_eq!((hours.start.hour(), hours.end.hour()), (6, 19));
    assert_eq!(election_day.schedules[0].start_date, Some(date!(2013 - 11 - 05)));

    let ivy = feed.polling_places_for("pre92360");
    assert_eq!(
        ivy.iter().map(|place| place.name.as_deref()).collect::<Vec<_>>(),
        [Some("MERIWETHER LEWIS ELEM SCHOOL")]
    );
    assert!(feed.precincts["pre99999"].is_mail_only);
    assert!(feed.polling_places_for("pre99999").is_empty(), "the mail-only precinct has no polling place");
    assert!(feed.polling_places_for("no such precinct").is_empty());
    let split = &feed.precincts["pre90348sp0001"];
    assert_eq!((split.name.as_deref(), split.split_name.as_deref()), (Some("201 - JACK JOUETT"), Some("0001")));
    for precinct in feed.precincts.values().filter(|precinct| !precinct.is_mail_only) {
        assert!(!feed.polling_places_for(&precinct.id).is_empty(), "{} has no polling place", precinct.id);
    }

    let university_hall = &feed.polling_locations["pl81466"];
    assert_eq!(university_hall.directions.as_ref().and_then(|directions| directions.text()), Some("North Lobby"));
    assert_eq!(
        feed.polling_locations["pl81191"].name.as_deref(),
        Some("ST ANNE'S-BELFIELD LWR SCHOOL - Convocation Ctr.")
    );

    let county_office = &feed.election_administrations["ea40001"];
    let contact = county_office.departments[0].contact.as_ref().unwrap();
    assert_eq!(contact.name.as_deref(), Some("ALBEMARLE COUNTY VOTER REGISTRATION"));
    assert_eq!(contact.address_lines, ["1600 5TH STREET", "CHARLOTTESVILLE, VA 22902"]);
    assert_eq!(contact.hours_open_id.as_deref(), Some("hours0000"));
    assert_eq!(county_office.departments[0].election_official_person_id.as_deref(), Some("per50001"));
    assert_eq!(county_office.elections_uri.as_deref(), Some("http://www.albemarle.org/registrar"));
}

/// The fragments beside the sample are VIP 3 elements (lowercase, no VipObject) and CSV files
/// named `.xml`: none is a whole VIP 5 feed, and each is refused with the reason.
#[test]
fn no_example_fragment_is_a_vip5_feed_and_each_is_refused_with_its_reason() {
    let mut paths: Vec<_> = std::fs::read_dir(shared(EXAMPLES)).unwrap().map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    assert!(paths.len() >= 7, "{paths:?}");
    let (mut fragments, mut tables) = (0, 0);
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        let reason = refusal(read_feed(Cursor::new(bytes.clone())));
        if bytes.starts_with(b"<") {
            fragments += 1;
            assert!(reason.contains("not <VipObject>"), "{}: {reason}", path.display());
        } else {
            tables += 1;
            assert!(reason.contains("not an XML document"), "{}: {reason}", path.display());
        }
    }
    assert!(fragments >= 4 && tables >= 3, "{fragments} fragments, {tables} tables");
}

#[test]
fn locality_and_state_wide_places_are_offered_to_every_precinct() {
    let feed = read(&feed(
        r#"<State id="st37"><Name>North Carolina</Name><PollingLocationIds>pl-state</PollingLocationIds></State>
  <Locality id="loc1"><Name>WAKE</Name><StateId>st37</StateId>
    <PollingLocationIds>pl-early pl-own</PollingLocationIds></Locality>
  <Precinct id="pre1"><LocalityId>loc1</LocalityId><Name>01-07</Name>
    <PollingLocationIds>pl-own</PollingLocationIds></Precinct>
  <PollingLocation id="pl-own"><AddressLine>1 Main St</AddressLine><Name>OWN</Name></PollingLocation>
  <PollingLocation id="pl-early"><AddressLine>2 Main St</AddressLine><IsEarlyVoting>1</IsEarlyVoting></PollingLocation>
  <PollingLocation id="pl-state"><AddressLine>3 Main St</AddressLine><IsDropBox>true</IsDropBox></PollingLocation>"#,
    ))
    .unwrap();
    let ids: Vec<&str> = feed.polling_places_for("pre1").iter().map(|place| place.id.as_str()).collect();
    assert_eq!(ids, ["pl-own", "pl-early", "pl-state"], "the precinct's own first, each once");
    assert!(feed.polling_locations["pl-early"].is_early_voting);
}

#[test]
fn values_are_read_whatever_their_spelling_and_unknown_elements_are_skipped() {
    let feed = read(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- comment -->\n{}",
        feed(
            r#"<Source id="src1"><Name>x</Name><VipId>37</VipId></Source>
  <StreetSegment id = "ss1"><Precinct id="not-a-precinct"/><City>RALEIGH</City></StreetSegment>
  <SomethingFromVip6 id="x"><SomethingFromVip6><Precinct/></SomethingFromVip6></SomethingFromVip6>
  <Precinct id=" pre7 " futureAttribute="y">
    <ExternalIdentifiers>
      <ExternalIdentifier><Type>ocd-id</Type><Value>ocd-division/country:us/state:nc/county:wake/precinct:01-07</Value></ExternalIdentifier>
      <ExternalIdentifier><Type>other</Type><OtherType>sboe-code</OtherType><Value>0107</Value></ExternalIdentifier>
    </ExternalIdentifiers>
    <LocalityId>loc1</LocalityId>
    <Name>RALEIGH &amp; <![CDATA[<NORTH>]]> &#x2014; &#65;</Name>
    <Number>01-07</Number>
    <FutureElement><Deep><Deeper/></Deep></FutureElement>
    <PollingLocationIds>
      pl1
      pl2
    </PollingLocationIds>
    <Ward>7</Ward>
  </Precinct>
  <PollingLocation id="pl1">
    <AddressStructured><Line1>1  Main
       St</Line1><Line2>Suite 2</Line2><City>RALEIGH</City><State>NC</State><Zip>276011234</Zip></AddressStructured>
    <Directions><Text language="es">Entrada norte</Text><Text language="en">North door</Text></Directions>
    <Hours><Text language="en">7:30am-7:30pm</Text></Hours>
  </PollingLocation>
  <PollingLocation id="pl2"/>
  <HoursOpen id="h1"><Schedule><Hours><StartTime>00:00:00Z</StartTime><EndTime>24:00:00+14:00</EndTime></Hours>
    <IsSubjectToChange>true</IsSubjectToChange><StartDate>2024-11-05-05:00</StartDate></Schedule></HoursOpen>"#
        )
    ))
    .unwrap();
    assert_eq!(feed.precincts.len(), 1, "elements inside skipped ones are not read");
    let precinct = &feed.precincts["pre7"];
    assert_eq!(precinct.name.as_deref(), Some("RALEIGH & <NORTH> \u{2014} A"));
    assert_eq!(precinct.ocd_id(), Some("ocd-division/country:us/state:nc/county:wake/precinct:01-07"));
    assert_eq!(precinct.external_identifiers[1].identifier_type, IdentifierType::Other("sboe-code".into()));
    assert_eq!((precinct.number.as_deref(), precinct.ward.as_deref()), (Some("01-07"), Some("7")));
    assert_eq!(precinct.polling_location_ids, ["pl1", "pl2"]);
    let location = &feed.polling_locations["pl1"];
    assert_eq!(location.address_text(), "1 Main St, Suite 2, RALEIGH, NC 27601-1234");
    let directions = location.directions.as_ref().unwrap();
    assert_eq!((directions.text(), directions.in_language("ES")), (Some("North door"), Some("Entrada norte")));
    assert_eq!(location.hours.as_ref().unwrap().text(), Some("7:30am-7:30pm"));
    assert_eq!(feed.polling_locations["pl2"].address_text(), "");
    let schedule = &feed.hours_open["h1"].schedules[0];
    assert_eq!(schedule.hours[0].start.to_string(), "00:00:00Z");
    assert_eq!(schedule.hours[0].end.to_string(), "24:00:00+14:00");
    assert!(schedule.is_subject_to_change && !schedule.is_only_by_appointment);
    assert_eq!(schedule.start_date, Some(date!(2024 - 11 - 05)));
    assert_eq!(feed.unresolved_references(), ["Precinct pre7: LocalityId names loc1, which the feed does not have"]);
}

#[test]
fn an_empty_vip_object_is_an_empty_feed() {
    let feed = read("<VipObject schemaVersion=\"5.2\"/>").unwrap();
    assert_eq!(feed, Vip5Feed { schema_version: Some("5.2".into()), ..Vip5Feed::default() });
}

#[test]
fn time_with_zone_follows_the_schema_pattern() {
    for good in ["00:00:00Z", "23:59:59+14:00", "24:00:00-12:00", "07:30:00+05:30"] {
        assert_eq!(TimeWithZone::parse(good).map(|time| time.to_string()).as_deref(), Some(good));
    }
    for bad in
        ["", "7:00:00Z", "07:00:00", "07:00Z", "24:00:01Z", "07:60:00Z", "07:00:00+15:00", "07:00:00+05:3", "é7:00:00Z"]
    {
        assert_eq!(TimeWithZone::parse(bad), None, "{bad}");
    }
}

#[test]
fn elements_without_what_links_them_refuse_the_feed_naming_element_and_line() {
    for (body, expected) in [
        ("<Precinct><LocalityId>l</LocalityId></Precinct>", "<Precinct> at line 2 has no `id`"),
        ("<Precinct id=\"\"><LocalityId>l</LocalityId></Precinct>", "<Precinct> at line 2 has no `id`"),
        ("\n\n<PollingLocation\n  name=\"x\"/>", "<PollingLocation> at line 4 has no `id`"),
        ("<HoursOpen/>", "<HoursOpen> at line 2 has no `id`"),
        ("<State><Name>x</Name></State>", "<State> at line 2 has no `id`"),
        ("<ElectionAdministration/>", "<ElectionAdministration> at line 2 has no `id`"),
        ("<Precinct id=\"p1\"><Name>x</Name></Precinct>", "(id `p1`) has no `LocalityId`"),
        ("<Locality id=\"l1\"><Name>x</Name></Locality>", "(id `l1`) has no `StateId`"),
        (
            "<Precinct id=\"p\"><LocalityId>l</LocalityId></Precinct>\n<Precinct id=\"p\"><LocalityId>l</LocalityId></Precinct>",
            "<Precinct> at line 3 repeats the id `p`",
        ),
    ] {
        let reason = refusal(read(&feed(body)));
        assert!(reason.contains(expected), "{reason} should say {expected}");
    }
}

#[test]
fn values_that_do_not_parse_refuse_the_feed() {
    for (body, expected) in [
        (
            "<Precinct id=\"p\"><LocalityId>l</LocalityId><IsMailOnly>yes</IsMailOnly></Precinct>",
            "<IsMailOnly> at line 2 holds `yes`",
        ),
        (
            "<PollingLocation id=\"p\"><LatLng><Latitude>91</Latitude><Longitude>0</Longitude></LatLng></PollingLocation>",
            "<LatLng> at line 2 has `Latitude` `91`",
        ),
        (
            "<PollingLocation id=\"p\"><LatLng><Latitude>35.7</Latitude></LatLng></PollingLocation>",
            "<LatLng> at line 2 has no `Longitude`",
        ),
        (
            "<HoursOpen id=\"h\"><Schedule><Hours><StartTime>7am</StartTime><EndTime>19:00:00Z</EndTime></Hours></Schedule></HoursOpen>",
            "<Hours> at line 2 has `StartTime` `7am`",
        ),
        (
            "<HoursOpen id=\"h\"><Schedule><Hours><StartTime>07:00:00Z</StartTime></Hours></Schedule></HoursOpen>",
            "<Hours> at line 2 has no `EndTime`",
        ),
        ("<HoursOpen id=\"h\"><Schedule><StartDate>11/05/2024</StartDate></Schedule></HoursOpen>", "not a date"),
        ("<HoursOpen id=\"h\"><Schedule><EndDate>2024-02-30</EndDate></Schedule></HoursOpen>", "not a date"),
        ("<Precinct id=\"p\"><LocalityId>l</LocalityId><Name>&nbsp;</Name></Precinct>", "unknown entity &nbsp;"),
        ("<Precinct id=\"p\" id=\"q\"><LocalityId>l</LocalityId></Precinct>", "bad attribute"),
    ] {
        let reason = refusal(read(&feed(body)));
        assert!(reason.contains(expected), "{reason} should say {expected}");
    }
}

#[test]
fn documents_that_are_not_vip5_feeds_are_refused() {
    let mut latin1 = feed("<State id=\"s\"><Name>CAF</Name></State>").into_bytes();
    let at = latin1.windows(3).position(|window| window == b"CAF").unwrap() + 3;
    latin1.insert(at, 0xC9);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "no elements"),
        (b"   \n\n".to_vec(), "no elements"),
        (b"<?xml version=\"1.0\"?>\n<!-- nothing -->".to_vec(), "no elements"),
        (b"precinct_id,polling_location_id\n1,2\n".to_vec(), "not an XML document"),
        (b"{\"VipObject\": {}}".to_vec(), "not an XML document"),
        (
            b"<ElectionReport xmlns=\"NIST_V2_election_results_reporting.xsd\"/>".to_vec(),
            "<ElectionReport>, not <VipObject>",
        ),
        (b"<vip_object schemaVersion=\"3.0\"><state id=\"1\"/></vip_object>".to_vec(), "a VIP 3 feed"),
        (b"<VipObject><Precinct id=\"p\"></VipObject>".to_vec(), "not well-formed XML near line 1"),
        (
            b"<VipObject>\n<State id=\"s\"><Name>x</Name></Stat>\n</VipObject>".to_vec(),
            "not well-formed XML near line 2",
        ),
        (b"<VipObject><Precinct id=\"p\"><LocalityId>l</LocalityId>".to_vec(), "<Precinct> at line 1 is not closed"),
        (b"<VipObject>\n<Source id=\"s\">".to_vec(), "not well-formed XML"),
        (b"<VipObject>".to_vec(), "ends before </VipObject>"),
        (b"<VipObject/>\n<VipObject/>".to_vec(), "content after the end of VipObject"),
        (b"<VipObject/>trailing words".to_vec(), "content after the end of VipObject"),
        (b"<VipObject id=\"a\" id=\"b\"/>".to_vec(), "bad attribute"),
        (latin1, "near line 2"),
        (vec![0xFF, 0xFE, b'<', 0, b'V', 0], "not"),
    ];
    for (bytes, expected) in cases {
        let shown = String::from_utf8_lossy(&bytes).into_owned();
        let reason = refusal(read_feed(Cursor::new(bytes)));
        assert!(reason.contains(expected), "{shown:?}: {reason} should say {expected}");
    }
}

#[test]
fn a_refusal_in_the_sample_names_the_line_an_editor_shows() {
    let text = String::from_utf8(sample()).unwrap();
    let without_id = text.replacen("<Precinct id=\"pre92360\">", "<Precinct>", 1);
    assert_ne!(text, without_id);
    let reason = refusal(read(&without_id));
    assert!(reason.starts_with("<Precinct> at line 2032 has no `id`"), "{reason}");
    let bad_time = text.replacen("<EndTime>19:00:00-05:00</EndTime>", "<EndTime>7pm</EndTime>", 1);
    let reason = refusal(read(&bad_time));
    assert!(reason.starts_with("<Hours> at line 161 has `EndTime` `7pm`"), "{reason}");
}

/// A download cut short anywhere before the root's end tag is refused, never half-read.
#[test]
fn a_truncated_sample_is_refused_wherever_it_is_cut() {
    let bytes = sample();
    let end = bytes.windows(12).position(|window| window == b"</VipObject>").unwrap();
    for cut in (0..end).step_by(331).chain([end - 1, end]) {
        let result = read_feed(Cursor::new(bytes[..cut].to_vec()));
        assert!(matches!(result, Err(FormatsError::Refused(_))), "cut at {cut}: {result:?}");
    }
}

#[test]
fn the_feed_is_read_through_a_small_buffer_too() {
    let reader = std::io::BufReader::with_capacity(16, Cursor::new(sample()));
    let feed = read_feed(reader).unwrap();
    assert_eq!(feed, read_feed(Cursor::new(sample())).unwrap());
    let reason = refusal(read_feed(std::io::BufReader::with_capacity(
        7,
        Cursor::new(feed_with_line_breaks_before("<Precinct><LocalityId>l</LocalityId></Precinct>", 40)),
    )));
    assert!(reason.contains("<Precinct> at line 42 has no `id`"), "{reason}");
}

fn feed_with_line_breaks_before(body: &str, lines: usize) -> Vec<u8> {
    feed(&format!("{}{body}", "\n".repeat(lines))).into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Damage anywhere gives a feed or a refusal, never a panic.
    #[test]
    fn damaged_samples_never_panic(edits in proptest::collection::vec((0..76_000usize, any::<u8>()), 1..8)) {
        let mut bytes = sample();
        for (at, byte) in edits {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        let _ = read_feed(Cursor::new(bytes));
    }
}
