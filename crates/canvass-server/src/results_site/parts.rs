//! Pieces several pages show: a contest's results table with its bars and winners, the vote-type
//! breakdown, precincts reporting and turnout. Bars are inline SVG sized by `width` attributes
//! (no `style=`), hidden from assistive technology because the table beside them says the same.

use canvass_core::{
    election::{Contest, ContestKind},
    results::{AreaTally, ContestTally, VoteType, Votes},
};
use maud::{Markup, html};

use super::layout::{number, percent};

/// One choice as a table row shows it.
struct ChoiceRow<'a> {
    name: &'a str,
    party: Option<&'a str>,
    votes: Votes,
    share: f64,
    winner: bool,
}

/// The rows of a contest over an area, in ballot order. A choice is marked as winning only once
/// every precinct of the area that votes on the contest has reported, and only when it is
/// clearly among the top `vote_for` (a tie at the edge marks no one).
fn choice_rows<'a>(contest: &'a Contest, counted: Option<&ContestTally>) -> Vec<ChoiceRow<'a>> {
    let votes: Vec<Votes> = (0..contest.choices.len())
        .map(|index| counted.and_then(|tally| tally.choices.get(index)).copied().unwrap_or_default())
        .collect();
    let total: u64 = votes.iter().map(|votes| votes.total).fold(0, u64::saturating_add);
    let complete = counted.is_some_and(|tally| tally.precincts > 0 && tally.precincts_reporting == tally.precincts);
    let seats = usize::try_from(contest.vote_for.get()).unwrap_or(usize::MAX);
    contest
        .choices
        .iter()
        .zip(&votes)
        .map(|(choice, mine)| {
            let at_least = votes.iter().filter(|other| other.total >= mine.total).count();
            ChoiceRow {
                name: choice.name.as_str(),
                party: choice.party.as_deref(),
                votes: *mine,
                share: if total == 0 { 0.0 } else { mine.total as f64 * 100.0 / total as f64 },
                winner: complete && total > 0 && mine.total > 0 && at_least <= seats,
            }
        })
        .collect()
}

fn winner_word(contest: &Contest) -> &'static str {
    match contest.kind {
        ContestKind::Candidate => "Winner",
        ContestKind::BallotMeasure | ContestKind::Retention => "Most votes",
    }
}

/// A horizontal bar of `share` per cent; decorative, the text beside it carries the number. The
/// track is the SVG's own background (CSS), so a bar is one short element: precinct pages of a
/// state-size election hold tens of thousands of them.
pub(super) fn bar(share: f64, winner: bool) -> Markup {
    let width = format!("{:.1}", share.clamp(0.0, 100.0));
    html! {
        svg.bar viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true" {
            rect.winner[winner] width=(width) height="1" {}
        }
    }
}

/// The contest's results over an area: each choice's votes and share with a bar. `id` makes the
/// table addressable (tests and readers' links).
pub(super) fn results_table(id: &str, caption: &str, contest: &Contest, counted: Option<&ContestTally>) -> Markup {
    let rows = choice_rows(contest, counted);
    html! {
        table.results id=(id) {
            caption { (caption) }
            thead { tr { th scope="col" { "Choice" } th.number scope="col" { "Votes" } th.number scope="col" { "Share" } } }
            tbody {
                @for row in &rows {
                    tr {
                        th scope="row" {
                            (row.name)
                            @if let Some(party) = row.party { " " span.party { "(" (party) ")" } }
                            @if row.winner { span.winner-mark { (winner_word(contest)) } }
                            (bar(row.share, row.winner))
                        }
                        td.votes { (number(row.votes.total)) }
                        td.share { (percent(row.share)) }
                    }
                }
            }
        }
    }
}

/// Votes per choice split by how they were cast, in a scrolling region so a phone never has to
/// scroll the whole page sideways.
pub(super) fn breakdown_table(id: &str, caption: &str, contest: &Contest, counted: Option<&ContestTally>) -> Markup {
    let rows = choice_rows(contest, counted);
    let votes: Vec<Votes> = rows.iter().map(|row| row.votes).collect();
    html! {
        div.scroll role="region" aria-label=(caption) tabindex="0" {
            table.breakdown id=(id) {
                caption { (caption) }
                thead {
                    tr {
                        th scope="col" { "Choice" }
                        @for kind in VoteType::ALL { th.number scope="col" { (kind.label()) } }
                        th.number scope="col" { "Total" }
                    }
                }
                tbody {
                    @for row in &rows {
                        tr {
                            th scope="row" { (row.name) }
                            @for kind in VoteType::ALL { td { (number(row.votes.of(kind))) } }
                            td.votes { (number(row.votes.total)) }
                        }
                    }
                }
            }
        }
        (unsplit_note(&votes))
    }
}

/// Ballots cast split by vote type, as one row.
pub(super) fn ballots_table(id: &str, ballots: &Votes) -> Markup {
    html! {
        div.scroll role="region" aria-label="Ballots cast by vote type" tabindex="0" {
            table.breakdown id=(id) {
                caption { "Ballots cast by vote type" }
                thead {
                    tr {
                        @for kind in VoteType::ALL { th.number scope="col" { (kind.label()) } }
                        th.number scope="col" { "Total" }
                    }
                }
                tbody {
                    tr {
                        @for kind in VoteType::ALL { td { (number(ballots.of(kind))) } }
                        td.votes { (number(ballots.total)) }
                    }
                }
            }
        }
        (unsplit_note(std::slice::from_ref(ballots)))
    }
}

/// Said when some precinct reported totals only, so the columns do not add up to the total.
fn unsplit_note(votes: &[Votes]) -> Markup {
    let unsplit =
        votes.iter().any(|votes| votes.by_type.iter().fold(0u64, |sum, part| sum.saturating_add(*part)) != votes.total);
    html! {
        @if unsplit {
            p.muted { "Some precincts reported totals only, not split by vote type; those votes count in Total alone." }
        }
    }
}

/// "12 of 27 precincts reporting (44.4%)" with a bar.
pub(super) fn reporting(reporting: u32, precincts: u32) -> Markup {
    let share = if precincts == 0 { 0.0 } else { f64::from(reporting) * 100.0 / f64::from(precincts) };
    html! {
        span.figure.reporting { (number(u64::from(reporting))) " of " (number(u64::from(precincts))) }
        " precincts reporting (" (percent(share)) ")"
        (bar(share, false))
    }
}

/// A short line for a contest over an area: precincts reporting, in words only.
pub(super) fn contest_reporting(counted: Option<&ContestTally>) -> Markup {
    let (reporting, precincts) = counted.map_or((0, 0), |tally| (tally.precincts_reporting, tally.precincts));
    html! { p.muted { (number(u64::from(reporting))) " of " (number(u64::from(precincts))) " precincts reporting" } }
}

/// Precincts reporting, ballots cast and turnout (when the roll is known) as fact boxes.
pub(super) fn area_facts(area: &AreaTally) -> Markup {
    html! {
        div.facts {
            div.fact { (reporting(area.precincts_reporting, area.precincts)) }
            div.fact {
                span.figure.ballots { (number(area.ballots_cast.total)) }
                " ballots cast"
                @if let Some(registered) = area.registered { " of " span.registered { (number(registered)) } " registered voters" }
            }
            @if let Some(turnout) = area.turnout() {
                div.fact { span.figure.turnout { (percent(turnout)) } " turnout" (bar(turnout, false)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canvass_core::{
        election::{Choice, VoteFor},
        id::{ContestId, ElectionId, JurisdictionId},
        name::Name,
    };

    fn contest(seats: u32) -> Contest {
        let choice = |name: &str| Choice { name: Name::parse(name).unwrap(), party: None };
        Contest {
            id: ContestId::parse("mayor").unwrap(),
            election: ElectionId::parse("e").unwrap(),
            district: JurisdictionId::parse("town").unwrap(),
            name: Name::parse("Mayor").unwrap(),
            kind: ContestKind::Candidate,
            vote_for: VoteFor::parse(seats).unwrap(),
            choices: vec![choice("A"), choice("B"), choice("C")],
        }
    }

    fn counted(totals: [u64; 3], reporting: u32) -> ContestTally {
        ContestTally { choices: totals.map(Votes::total_only).to_vec(), precincts: 4, precincts_reporting: reporting }
    }

    fn winners(contest: &Contest, tally: &ContestTally) -> Vec<&'static str> {
        let names = ["A", "B", "C"];
        choice_rows(contest, Some(tally))
            .iter()
            .enumerate()
            .filter(|(_, row)| row.winner)
            .map(|(i, _)| names[i])
            .collect()
    }

    #[test]
    fn winners_are_marked_only_when_every_precinct_reported_and_clear() {
        let one = contest(1);
        assert_eq!(winners(&one, &counted([50, 30, 20], 4)), ["A"]);
        assert_eq!(winners(&one, &counted([50, 30, 20], 3)), Vec::<&str>::new(), "not all precincts in");
        assert_eq!(winners(&one, &counted([40, 40, 20], 4)), Vec::<&str>::new(), "a tie marks no one");
        assert_eq!(winners(&contest(2), &counted([40, 40, 20], 4)), ["A", "B"]);
        assert_eq!(winners(&one, &counted([0, 0, 0], 4)), Vec::<&str>::new());
        let rows = choice_rows(&one, Some(&counted([50, 30, 20], 4)));
        assert!((rows[0].share - 50.0).abs() < 1e-9);
    }
}
