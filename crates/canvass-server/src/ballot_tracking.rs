//! The steps of an overseas or military (UOCAVA) voter's ballot on "Did my ballot count?"
//! (issue 9): requested, sent (and how), downloaded (for a link), then returned and the
//! decision. Built only from dates, codes and the delivery method, never from the link, its
//! token or an address, so a step cannot carry anything the ballot's public status does not.
//! A ballot with no UOCAVA request for its election's year and no delivery has no steps: its
//! page is the absentee or provisional line alone, as before.

use canvass_core::{
    audit::now_millis,
    ballots::{AbsenteeStatus, BallotStatus},
    uocava::Delivery,
};
use canvass_store::{DeliveryMethod, StoredBallot, StoredUocavaDelivery, StoredUocavaRequest};
use maud::{Markup, html};
use serde::Serialize;
use time::Date;

use crate::uocava::day_of;

/// One step, the same keys whatever the step: `date` and `detail` are `null` when not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TrackingStep {
    /// `requested`, `sent`, `downloaded`, `returned`, `accepted`, `rejected`, `cured` or
    /// `cancelled`.
    step: &'static str,
    label: &'static str,
    done: bool,
    /// Where the ballot is now: the step after the last one done, or the last step when all are.
    current: bool,
    date: Option<String>,
    detail: Option<&'static str>,
}

impl TrackingStep {
    fn done(step: &'static str, label: &'static str, date: Option<Date>, detail: Option<&'static str>) -> Self {
        Self { step, label, done: true, current: false, date: date.map(|date| date.to_string()), detail }
    }

    fn waiting(step: &'static str, label: &'static str, detail: Option<&'static str>) -> Self {
        Self { step, label, done: false, current: false, date: None, detail }
    }
}

/// The UOCAVA requests and deliveries read for the lookup's matches (any voter, year, election).
pub(crate) struct UocavaRecords<'a> {
    pub(crate) requests: &'a [StoredUocavaRequest],
    pub(crate) deliveries: &'a [StoredUocavaDelivery],
}

/// The ballot's UOCAVA steps, empty when the ballot is not a UOCAVA voter's absentee ballot.
pub(crate) fn uocava_steps(
    ballot: &StoredBallot,
    election_year: i32,
    records: &UocavaRecords<'_>,
) -> Vec<TrackingStep> {
    let BallotStatus::Absentee(status) = ballot.status else { return Vec::new() };
    let number = ballot.registration_number.as_str();
    let of_the_year =
        |request: &&StoredUocavaRequest| request.registration_number == number && request.year == election_year;
    let first_request = records.requests.iter().find(of_the_year);
    // A later request of the same year supersedes: its delivery is the one in force.
    let request = records.requests.iter().rfind(of_the_year);
    let delivery = records
        .deliveries
        .iter()
        .rfind(|delivery| delivery.registration_number == number && delivery.election == ballot.election);
    if request.is_none() && delivery.is_none() {
        return Vec::new();
    }
    let requested_on = first_request.map_or(ballot.opened_on, |request| day_of(request.received_at));
    let mut steps = vec![TrackingStep::done("requested", "Requested", Some(requested_on), None)];
    steps.extend(delivery_steps(status, request.map(|request| request.delivery), delivery));
    steps.extend(decision_steps(ballot, status));
    // A step can stay undone behind a later one (a link never used, the ballot returned on
    // paper all the same): where the ballot is follows the last step done.
    let last_done = steps.iter().rposition(|step| step.done).unwrap_or_default();
    let current = (last_done + 1).min(steps.len().saturating_sub(1));
    if let Some(step) = steps.get_mut(current) {
        step.current = true;
    }
    steps
}

/// Sent (with its method) and, for a link, downloaded.
fn delivery_steps(
    status: AbsenteeStatus,
    preference: Option<Delivery>,
    delivery: Option<&StoredUocavaDelivery>,
) -> Vec<TrackingStep> {
    let Some(delivery) = delivery else {
        // Recorded as sent another way (by staff, on paper): sent, without a date or method.
        if status != AbsenteeStatus::Requested && status != AbsenteeStatus::Cancelled {
            return vec![TrackingStep::done("sent", "Sent", None, None)];
        }
        let mut steps = vec![TrackingStep::waiting("sent", "Sent", Some("Your blank ballot has not been sent yet."))];
        if preference.is_some_and(Delivery::is_electronic) {
            steps.push(TrackingStep::waiting("downloaded", "Downloaded", None));
        }
        return steps;
    };
    let sent_on = Some(day_of(delivery.sent_at));
    let DeliveryMethod::Link { expires_at, .. } = &delivery.method else {
        return vec![TrackingStep::done("sent", "Sent", sent_on, Some("By mail."))];
    };
    let how = match preference {
        Some(Delivery::Email) => "By email, as a one-time download link.",
        Some(Delivery::Online) => "As a one-time online download link.",
        Some(Delivery::Mail) | None => "As a one-time download link.",
    };
    let returned = !matches!(status, AbsenteeStatus::Requested | AbsenteeStatus::Sent);
    let downloaded = match delivery.downloaded_at {
        Some(at) => TrackingStep::done("downloaded", "Downloaded", Some(day_of(at)), None),
        None if returned => TrackingStep::waiting("downloaded", "Downloaded", Some("Not downloaded.")),
        None if *expires_at <= now_millis() => TrackingStep::waiting(
            "downloaded",
            "Downloaded",
            Some("Not downloaded: the link has expired. Contact your county board of elections for a new one."),
        ),
        None => TrackingStep::waiting("downloaded", "Downloaded", Some("Not yet downloaded.")),
    };
    vec![TrackingStep::done("sent", "Sent", sent_on, Some(how)), downloaded]
}

/// Returned and the board's decision, from the absentee ballot's status (its day is the
/// latest status's; an earlier step's day is not public and is left out).
fn decision_steps(ballot: &StoredBallot, status: AbsenteeStatus) -> Vec<TrackingStep> {
    let on = Some(ballot.status_on);
    let returned = |date| TrackingStep::done("returned", "Returned", date, None);
    let accepted_later = TrackingStep::waiting("accepted", "Accepted", None);
    match status {
        AbsenteeStatus::Requested | AbsenteeStatus::Sent => {
            vec![TrackingStep::waiting("returned", "Returned", None), accepted_later]
        }
        AbsenteeStatus::Returned => vec![returned(on), accepted_later],
        AbsenteeStatus::Accepted => vec![returned(None), TrackingStep::done("accepted", "Accepted", on, None)],
        AbsenteeStatus::Rejected { .. } => vec![returned(None), TrackingStep::done("rejected", "Rejected", on, None)],
        AbsenteeStatus::Cured => {
            vec![returned(None), TrackingStep::done("cured", "Correction received", on, None), accepted_later]
        }
        AbsenteeStatus::Cancelled => vec![TrackingStep::done("cancelled", "Cancelled", on, None)],
    }
}

/// The status line of a ballot sent as a link: the absentee line says "mailed", which a voter
/// who got an email would not recognise.
pub(crate) fn sent_line(steps: &[TrackingStep]) -> Option<&'static str> {
    let downloaded = steps.iter().find(|step| step.step == "downloaded")?;
    let sent = steps.iter().find(|step| step.step == "sent")?;
    let returned = steps.iter().any(|step| step.step == "returned" && step.done);
    (sent.done && !returned).then_some(match downloaded.done {
        true => "Your blank ballot was sent to you as a download link, and you downloaded it.",
        false => "Your blank ballot was sent to you as a one-time download link.",
    })
}

/// The steps as an ordered list: done steps ticked, the current one outlined (the stylesheet's
/// `ol.tracking`; no inline style, which the public listener's policy forbids).
pub(crate) fn steps_markup(steps: &[TrackingStep]) -> Markup {
    html! {
        ol.tracking aria-label="Your ballot's steps" {
            @for step in steps {
                li class=(step_class(step)) aria-current=[step.current.then_some("step")] {
                    span.tracking-label { (step.label) }
                    @if step.done { span.visually-hidden { " (done)" } }
                    @if let Some(date) = &step.date { " " span.tracking-date { (date) } }
                    @if let Some(detail) = step.detail { br; span.muted { (detail) } }
                }
            }
        }
    }
}

fn step_class(step: &TrackingStep) -> &'static str {
    match (step.done, step.current) {
        (true, true) => "done current",
        (true, false) => "done",
        (false, true) => "current",
        (false, false) => "upcoming",
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use canvass_core::{
        ballots::RejectionReason,
        id::{ElectionId, JurisdictionId},
        uocava::Classification,
    };
    use time::macros::date;

    use super::*;

    const DAY: i64 = 86_400_000;
    /// 2027-01-01 00:00 UTC.
    const NEW_YEAR: i64 = 1_798_761_600_000;

    fn ballot(status: AbsenteeStatus) -> StoredBallot {
        StoredBallot {
            id: 1,
            registration_number: "U1".into(),
            jurisdiction: JurisdictionId::parse("wake").unwrap(),
            election: ElectionId::parse("general-2027").unwrap(),
            status: BallotStatus::Absentee(status),
            cure_deadline: None,
            opened_on: date!(2027 - 01 - 01),
            status_on: date!(2027 - 10 - 20),
            updated_at: 0,
        }
    }

    fn request(delivery: Delivery) -> StoredUocavaRequest {
        StoredUocavaRequest {
            id: 1,
            registration_number: "U1".into(),
            jurisdiction: JurisdictionId::parse("wake").unwrap(),
            year: 2027,
            delivery,
            classification: Classification::Military,
            received_at: NEW_YEAR + DAY,
        }
    }

    fn delivery(method: DeliveryMethod, downloaded_at: Option<i64>) -> StoredUocavaDelivery {
        StoredUocavaDelivery {
            id: 1,
            registration_number: "U1".into(),
            election: ElectionId::parse("general-2027").unwrap(),
            style: "style-1".into(),
            method,
            sent_at: NEW_YEAR + 2 * DAY,
            downloaded_at,
        }
    }

    /// The steps as `step[*]:date:detail`, `*` marking the current one, `+` a done one.
    fn check(
        status: AbsenteeStatus,
        requests: &[StoredUocavaRequest],
        deliveries: &[StoredUocavaDelivery],
        expected: &[&str],
    ) {
        let records = UocavaRecords { requests, deliveries };
        let steps = uocava_steps(&ballot(status), 2027, &records);
        let actual: Vec<String> = steps
            .iter()
            .map(|step| {
                let marks = format!("{}{}", if step.done { "+" } else { "" }, if step.current { "*" } else { "" });
                format!("{}{marks}:{}:{}", step.step, step.date.as_deref().unwrap_or(""), step.detail.unwrap_or(""))
            })
            .collect();
        assert_eq!(actual, expected);
        assert_eq!(steps.iter().filter(|step| step.current).count(), usize::from(!steps.is_empty()));
    }

    #[test]
    fn a_ballot_without_a_uocava_request_or_delivery_has_no_steps() {
        check(AbsenteeStatus::Sent, &[], &[], &[]);
        // Another year's request, another voter's delivery: not this ballot's.
        let last_year = StoredUocavaRequest { year: 2026, ..request(Delivery::Mail) };
        let theirs = StoredUocavaDelivery { registration_number: "U2".into(), ..delivery(DeliveryMethod::Mail, None) };
        check(AbsenteeStatus::Sent, &[last_year], &[theirs], &[]);
    }

    #[test]
    fn a_request_not_yet_sent_waits_on_sending() {
        check(
            AbsenteeStatus::Requested,
            &[request(Delivery::Email)],
            &[],
            &[
                "requested+:2027-01-02:",
                "sent*::Your blank ballot has not been sent yet.",
                "downloaded::",
                "returned::",
                "accepted::",
            ],
        );
    }

    #[test]
    fn a_mailed_ballot_has_no_download_step() {
        check(
            AbsenteeStatus::Accepted,
            &[request(Delivery::Mail)],
            &[delivery(DeliveryMethod::Mail, None)],
            &["requested+:2027-01-02:", "sent+:2027-01-03:By mail.", "returned+::", "accepted+*:2027-10-20:"],
        );
    }

    #[test]
    fn a_link_shows_its_download_or_its_expiry() {
        let link = |expires_at| DeliveryMethod::Link { token_hash: "ab".into(), expires_at };
        let online = [request(Delivery::Online)];
        check(
            AbsenteeStatus::Sent,
            &online,
            &[delivery(link(i64::MAX), Some(NEW_YEAR + 3 * DAY))],
            &[
                "requested+:2027-01-02:",
                "sent+:2027-01-03:As a one-time online download link.",
                "downloaded+:2027-01-04:",
                "returned*::",
                "accepted::",
            ],
        );
        // Expired long ago, whatever the clock says.
        let expired = [delivery(link(1), None)];
        let steps = uocava_steps(
            &ballot(AbsenteeStatus::Sent),
            2027,
            &UocavaRecords { requests: &online, deliveries: &expired },
        );
        assert!(steps[2].current && steps[2].detail.unwrap().contains("expired"), "{steps:?}");
        assert_eq!(sent_line(&steps), Some("Your blank ballot was sent to you as a one-time download link."));
        check(
            AbsenteeStatus::Rejected { reason: RejectionReason::LateArrival },
            &online,
            &expired,
            &[
                "requested+:2027-01-02:",
                "sent+:2027-01-03:As a one-time online download link.",
                "downloaded::Not downloaded.",
                "returned+::",
                "rejected+*:2027-10-20:",
            ],
        );
    }

    #[test]
    fn a_cancelled_ballot_ends_there() {
        check(
            AbsenteeStatus::Cancelled,
            &[request(Delivery::Mail)],
            &[],
            &["requested+:2027-01-02:", "sent::Your blank ballot has not been sent yet.", "cancelled+*:2027-10-20:"],
        );
    }
}
