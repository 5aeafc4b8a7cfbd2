//! Blank ballots as PDF, one per ballot style (`canvass_core::ballot_styles`): instructions,
//! every contest of the style in ballot order with its "Vote for N", the choices with ovals,
//! write-in lines, the election, its date, the style id on every page, and how to return the
//! ballot. A style's PDF is a pure function of the definition: no clock, no random id, no
//! system font (Liberation Sans is compiled in), so every voter of a style gets the same bytes
//! and anyone can regenerate and compare them.
//!
//! Layout ([`layout`]) is separate from drawing ([`render`]): contests flow down two columns
//! and onto further pages, a contest that does not fit the rest of a column starts the next
//! one, and a contest taller than a whole column continues under a "(continued)" heading.

use std::sync::OnceLock;

use canvass_core::{
    ballot_styles::BallotStyle,
    election::{Contest, ContestKind},
    results::ElectionDefinition,
};
use krilla::{
    Document,
    color::luma,
    geom::{PathBuilder, Point, Rect, Transform},
    metadata::Metadata,
    num::NormalizedF32,
    page::PageSettings,
    paint::{Fill, Stroke},
    text::{Font, TextDirection},
};

use crate::ServerError;

const REGULAR_FONT: &[u8] = include_bytes!("../assets/fonts/LiberationSans-Regular.ttf");
const BOLD_FONT: &[u8] = include_bytes!("../assets/fonts/LiberationSans-Bold.ttf");

/// US Letter, in points.
const PAGE_WIDTH: f32 = 612.0;
const PAGE_HEIGHT: f32 = 792.0;
const MARGIN: f32 = 40.0;
const COLUMN_GAP: f32 = 16.0;
const COLUMN_WIDTH: f32 = (PAGE_WIDTH - 2.0 * MARGIN - COLUMN_GAP) / 2.0;
/// Where the flowing content starts and ends on every page (below the header, above the footer).
const BODY_TOP: f32 = 96.0;
const BODY_BOTTOM: f32 = PAGE_HEIGHT - 48.0;
/// Space between two blocks in a column.
const BLOCK_GAP: f32 = 10.0;
/// The oval a voter fills, and the inset of choice text from the column's left edge.
const OVAL_WIDTH: f32 = 16.0;
const OVAL_HEIGHT: f32 = 10.0;
const CHOICE_INSET: f32 = 34.0;

/// The words printed where a sample ballot is marked as one (header, footer and watermark).
pub const SAMPLE_MARK: &str = "SAMPLE BALLOT";

/// The PDF of one ballot style; with `sample`, every page is marked "SAMPLE BALLOT" and says
/// it is not for voting. The same inputs always give the same bytes.
pub fn style_pdf(definition: &ElectionDefinition, style: &BallotStyle, sample: bool) -> Result<Vec<u8>, ServerError> {
    let contests = style_contests(definition, style)?;
    let ballot = Ballot { definition, style, sample };
    let pages = layout(&ballot, &contests);
    render(&ballot, &pages)
}

/// The style's contests from the definition, in the style's (ballot) order.
pub fn style_contests<'a>(
    definition: &'a ElectionDefinition,
    style: &BallotStyle,
) -> Result<Vec<&'a Contest>, ServerError> {
    style
        .contests
        .iter()
        .map(|id| {
            definition.contest(id).ok_or_else(|| {
                ServerError::Invalid(format!(
                    "ballot style {}: contest {id} is not in the election definition",
                    style.id
                ))
            })
        })
        .collect()
}

/// What the voter is told before the contests and after them; shared with the marking page.
pub const INSTRUCTIONS: [&str; 4] = [
    "Use a black or blue pen. To vote, fill in the oval next to your choice completely.",
    "Vote for no more than the number of choices a contest allows; if you mark more, your vote in that contest cannot be counted.",
    "To vote for a person whose name is not printed, fill in the oval by a write-in line and write the name on the line.",
    "If you make a mistake, ask your election office for a new ballot; do not cross out.",
];
pub const RETURN_INSTRUCTIONS: [&str; 3] = [
    "Return this ballot by mail in the envelope provided, or as your election office's instructions allow.",
    "Sign the voter's declaration on the return envelope: a ballot without it cannot be counted.",
    "Voted ballots cannot be returned online through this site.",
];

struct Ballot<'a> {
    definition: &'a ElectionDefinition,
    style: &'a BallotStyle,
    sample: bool,
}

// ---------------------------------------------------------------------------------------------
// Layout: pages of marks, in points from the page's top-left corner

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Weight {
    Regular,
    Bold,
}

#[derive(Debug, Clone, PartialEq)]
enum Mark {
    Text { x: f32, y: f32, size: f32, weight: Weight, text: String },
    Oval { x: f32, y: f32, filled: bool },
    Line { from: (f32, f32), to: (f32, f32), width: f32 },
    Shade { x: f32, y: f32, width: f32, height: f32 },
}

impl Mark {
    fn moved(&self, dx: f32, dy: f32) -> Mark {
        match self.clone() {
            Mark::Text { x, y, size, weight, text } => Mark::Text { x: x + dx, y: y + dy, size, weight, text },
            Mark::Oval { x, y, filled } => Mark::Oval { x: x + dx, y: y + dy, filled },
            Mark::Line { from, to, width } => {
                Mark::Line { from: (from.0 + dx, from.1 + dy), to: (to.0 + dx, to.1 + dy), width }
            }
            Mark::Shade { x, y, width, height } => Mark::Shade { x: x + dx, y: y + dy, width, height },
        }
    }
}

/// A horizontal slice of a block: its height and its marks, relative to its top-left corner.
#[derive(Debug, Clone, Default)]
struct Row {
    height: f32,
    marks: Vec<Mark>,
}

/// Rows that belong together (a contest, the instructions); `heading` is repeated, marked
/// "(continued)", when the block has to continue in another column.
struct Block {
    heading: Option<String>,
    rows: Vec<Row>,
}

impl Block {
    fn height(&self) -> f32 {
        self.rows.iter().map(|row| row.height).sum()
    }
}

struct Fonts {
    regular: Font,
    bold: Font,
    regular_face: ttf_parser::Face<'static>,
    bold_face: ttf_parser::Face<'static>,
}

/// Parsed once per process; the font files are part of the binary, so failing to parse them
/// is a build defect, reported as an internal error rather than a panic.
fn fonts() -> Result<&'static Fonts, ServerError> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Some(Fonts {
                regular: Font::new(REGULAR_FONT.into(), 0)?,
                bold: Font::new(BOLD_FONT.into(), 0)?,
                regular_face: ttf_parser::Face::parse(REGULAR_FONT, 0).ok()?,
                bold_face: ttf_parser::Face::parse(BOLD_FONT, 0).ok()?,
            })
        })
        .as_ref()
        .ok_or_else(|| ServerError::Internal("the ballot font compiled into canvass cannot be read".into()))
}

/// The width of `text` set in `weight` at `size` points.
fn text_width(text: &str, weight: Weight, size: f32) -> f32 {
    let Ok(fonts) = fonts() else { return 0.0 };
    let face = match weight {
        Weight::Regular => &fonts.regular_face,
        Weight::Bold => &fonts.bold_face,
    };
    let units: u32 = text
        .chars()
        .map(|character| {
            face.glyph_index(character).and_then(|glyph| face.glyph_hor_advance(glyph)).map_or(0, u32::from)
        })
        .sum();
    units as f32 * size / f32::from(face.units_per_em())
}

/// Breaks `text` into lines no wider than `width`, at spaces; a word wider than a line is cut.
fn wrap(text: &str, weight: Weight, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
        if text_width(&candidate, weight, size) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word.to_owned();
        while text_width(&rest, weight, size) > width && rest.chars().count() > 1 {
            let mut cut = rest.len();
            while cut > 0 && text_width(&rest[..cut], weight, size) > width {
                cut = rest[..cut].char_indices().last().map_or(0, |(index, _)| index);
            }
            let cut = cut.max(rest.chars().next().map_or(1, char::len_utf8));
            lines.push(rest[..cut].to_owned());
            rest = rest[cut..].to_owned();
        }
        line = rest;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Wrapped lines of text as marks, starting at `x`, `top`; answers the marks and their height.
fn paragraph(text: &str, weight: Weight, size: f32, x: f32, top: f32, width: f32) -> (Vec<Mark>, f32) {
    let leading = size * 1.25;
    let marks = wrap(text, weight, size, width)
        .into_iter()
        .enumerate()
        .map(|(index, line)| Mark::Text { x, y: top + size + leading * index as f32, size, weight, text: line })
        .collect::<Vec<_>>();
    let height = leading * marks.len() as f32;
    (marks, height)
}

/// The edges of a boxed block: both sides of every row, the top of the first, the bottom of
/// the last.
fn frame(rows: &mut [Row]) {
    let count = rows.len();
    for (index, row) in rows.iter_mut().enumerate() {
        let height = row.height;
        row.marks.push(Mark::Line { from: (0.0, 0.0), to: (0.0, height), width: 0.8 });
        row.marks.push(Mark::Line { from: (COLUMN_WIDTH, 0.0), to: (COLUMN_WIDTH, height), width: 0.8 });
        if index == 0 {
            row.marks.push(Mark::Line { from: (0.0, 0.0), to: (COLUMN_WIDTH, 0.0), width: 0.8 });
        }
        if index + 1 == count {
            row.marks.push(Mark::Line { from: (0.0, height), to: (COLUMN_WIDTH, height), width: 0.8 });
        }
    }
}

/// A shaded heading row (a contest's name, "Instructions").
fn heading_row(title: &str, subtitle: Option<&str>) -> Row {
    let width = COLUMN_WIDTH - 12.0;
    let (mut marks, height) = paragraph(title, Weight::Bold, 10.5, 6.0, 5.0, width);
    let mut bottom = 5.0 + height;
    if let Some(subtitle) = subtitle {
        let (more, more_height) = paragraph(subtitle, Weight::Bold, 9.0, 6.0, bottom + 1.0, width);
        marks.extend(more);
        bottom += 1.0 + more_height;
    }
    let height = bottom + 4.0;
    marks.insert(0, Mark::Shade { x: 0.0, y: 0.0, width: COLUMN_WIDTH, height });
    Row { height, marks }
}

fn text_rows(lines: &[&str]) -> Vec<Row> {
    lines
        .iter()
        .map(|line| {
            let (marks, height) = paragraph(line, Weight::Regular, 8.5, 6.0, 3.0, COLUMN_WIDTH - 12.0);
            Row { height: height + 4.0, marks }
        })
        .collect()
}

fn instructions_block() -> Block {
    let mut rows = vec![heading_row("Instructions", None)];
    rows.extend(text_rows(&INSTRUCTIONS));
    let mut example = Row { height: 22.0, marks: vec![Mark::Oval { x: 8.0, y: 6.0, filled: true }] };
    example.marks.push(Mark::Text {
        x: CHOICE_INSET,
        y: 14.5,
        size: 8.5,
        weight: Weight::Regular,
        text: "A correctly filled oval".into(),
    });
    rows.push(example);
    frame(&mut rows);
    Block { heading: None, rows }
}

fn return_block() -> Block {
    let mut rows = vec![heading_row("Returning your ballot", None)];
    rows.extend(text_rows(&RETURN_INSTRUCTIONS));
    frame(&mut rows);
    Block { heading: None, rows }
}

/// "Vote for 1", "Vote for 2", ...
pub fn vote_for_label(contest: &Contest) -> String {
    format!("Vote for {}", contest.vote_for.get())
}

/// How many write-in lines a contest gets: one per seat for candidate contests, none for
/// measures and retention questions (whose choices are fixed).
pub fn write_in_lines(contest: &Contest) -> u32 {
    match contest.kind {
        ContestKind::Candidate => contest.vote_for.get(),
        ContestKind::BallotMeasure | ContestKind::Retention => 0,
    }
}

fn choice_row(name: &str, party: Option<&str>) -> Row {
    let width = COLUMN_WIDTH - CHOICE_INSET - 6.0;
    let (mut marks, mut height) = paragraph(name, Weight::Bold, 9.5, CHOICE_INSET, 5.0, width);
    if let Some(party) = party {
        let (more, more_height) = paragraph(party, Weight::Regular, 8.0, CHOICE_INSET, 5.0 + height, width);
        marks.extend(more);
        height += more_height;
    }
    marks.push(Mark::Oval { x: 8.0, y: 6.0, filled: false });
    let height = (height + 8.0).max(OVAL_HEIGHT + 12.0);
    marks.push(Mark::Line { from: (0.0, height), to: (COLUMN_WIDTH, height), width: 0.3 });
    Row { height, marks }
}

fn write_in_row() -> Row {
    let height = 30.0;
    let marks = vec![
        Mark::Oval { x: 8.0, y: 8.0, filled: false },
        Mark::Line { from: (CHOICE_INSET, 19.0), to: (COLUMN_WIDTH - 8.0, 19.0), width: 0.6 },
        Mark::Text { x: CHOICE_INSET, y: 27.0, size: 7.0, weight: Weight::Regular, text: "Write-in".into() },
        Mark::Line { from: (0.0, height), to: (COLUMN_WIDTH, height), width: 0.3 },
    ];
    Row { height, marks }
}

fn contest_block(contest: &Contest) -> Block {
    let vote_for = vote_for_label(contest);
    let mut rows = vec![heading_row(contest.name.as_str(), Some(&vote_for))];
    for choice in &contest.choices {
        rows.push(choice_row(choice.name.as_str(), choice.party.as_deref()));
    }
    for _ in 0..write_in_lines(contest) {
        rows.push(write_in_row());
    }
    frame(&mut rows);
    Block { heading: Some(format!("{} (continued) · {vote_for}", contest.name)), rows }
}

/// Where the next row goes.
struct Cursor {
    pages: Vec<Vec<Mark>>,
    column: usize,
    y: f32,
}

impl Cursor {
    fn new() -> Self {
        Self { pages: vec![Vec::new()], column: 0, y: BODY_TOP }
    }

    fn left(&self) -> f32 {
        MARGIN + self.column as f32 * (COLUMN_WIDTH + COLUMN_GAP)
    }

    fn room(&self) -> f32 {
        BODY_BOTTOM - self.y
    }

    fn next_column(&mut self) {
        if self.column == 0 {
            self.column = 1;
        } else {
            self.column = 0;
            self.pages.push(Vec::new());
        }
        self.y = BODY_TOP;
    }

    fn place(&mut self, row: &Row) {
        let (dx, dy) = (self.left(), self.y);
        if let Some(page) = self.pages.last_mut() {
            page.extend(row.marks.iter().map(|mark| mark.moved(dx, dy)));
        }
        self.y += row.height;
    }

    /// A block starts a new column when it does not fit the rest of this one but would fit a
    /// fresh one; a block taller than a whole column is split between rows.
    fn place_block(&mut self, block: &Block) {
        let full = BODY_BOTTOM - BODY_TOP;
        if self.y > BODY_TOP && block.height() > self.room() && block.height() <= full {
            self.next_column();
        }
        for (index, row) in block.rows.iter().enumerate() {
            if row.height > self.room() && self.y > BODY_TOP {
                self.next_column();
                if let (Some(heading), true) = (&block.heading, index > 0) {
                    let mut continued = vec![heading_row(heading, None)];
                    frame(&mut continued);
                    for row in &continued {
                        self.place(row);
                    }
                }
            }
            self.place(row);
        }
        self.y += BLOCK_GAP;
    }
}

/// Every page's marks, header and footer included.
fn layout(ballot: &Ballot<'_>, contests: &[&Contest]) -> Vec<Vec<Mark>> {
    let mut cursor = Cursor::new();
    cursor.place_block(&instructions_block());
    for contest in contests {
        cursor.place_block(&contest_block(contest));
    }
    cursor.place_block(&return_block());
    let count = cursor.pages.len();
    cursor
        .pages
        .into_iter()
        .enumerate()
        .map(|(index, mut marks)| {
            let mut page = page_frame(ballot, index + 1, count);
            page.append(&mut marks);
            page
        })
        .collect()
}

/// The header and footer of page `number` of `count`.
fn page_frame(ballot: &Ballot<'_>, number: usize, count: usize) -> Vec<Mark> {
    let election = &ballot.definition.election;
    let kind = if ballot.sample { "SAMPLE BALLOT · not for voting" } else { "Official ballot" };
    let right = |text: &str, size: f32, weight: Weight| PAGE_WIDTH - MARGIN - text_width(text, weight, size);
    let style_label = format!("Ballot style {}", ballot.style.id);
    let page_label = format!("Page {number} of {count}");
    let mut marks = vec![];
    let (title, title_height) =
        paragraph(election.name.as_str(), Weight::Bold, 15.0, MARGIN, 36.0, PAGE_WIDTH - 2.0 * MARGIN - 130.0);
    marks.extend(title.into_iter().take(2));
    let second = 36.0 + title_height.min(38.0) + 14.0;
    marks.push(Mark::Text { x: MARGIN, y: second, size: 10.0, weight: Weight::Bold, text: kind.into() });
    let date = election.date.to_string();
    marks.push(Mark::Text {
        x: right(&date, 10.0, Weight::Regular),
        y: 51.0,
        size: 10.0,
        weight: Weight::Regular,
        text: date,
    });
    marks.push(Mark::Text {
        x: right(&style_label, 10.0, Weight::Bold),
        y: second,
        size: 10.0,
        weight: Weight::Bold,
        text: style_label.clone(),
    });
    marks.push(Mark::Line { from: (MARGIN, BODY_TOP - 10.0), to: (PAGE_WIDTH - MARGIN, BODY_TOP - 10.0), width: 1.2 });
    let footer_y = PAGE_HEIGHT - 26.0;
    marks.push(Mark::Line { from: (MARGIN, footer_y - 14.0), to: (PAGE_WIDTH - MARGIN, footer_y - 14.0), width: 0.6 });
    let footer = if ballot.sample { format!("{SAMPLE_MARK} · {style_label}") } else { style_label };
    marks.push(Mark::Text { x: MARGIN, y: footer_y, size: 8.5, weight: Weight::Regular, text: footer });
    marks.push(Mark::Text {
        x: right(&page_label, 8.5, Weight::Regular),
        y: footer_y,
        size: 8.5,
        weight: Weight::Regular,
        text: page_label,
    });
    marks
}

// ---------------------------------------------------------------------------------------------
// Drawing

fn gray(level: u8) -> krilla::paint::Paint {
    luma::Color::new(level).into()
}

fn fill(level: u8) -> Fill {
    Fill { paint: gray(level), opacity: NormalizedF32::ONE, rule: Default::default() }
}

fn stroke(width: f32) -> Stroke {
    Stroke { paint: gray(0), width, ..Default::default() }
}

/// An ellipse from four cubic Béziers (the usual 0.5523 control-point factor).
fn oval_path(x: f32, y: f32) -> Option<krilla::geom::Path> {
    const KAPPA: f32 = 0.552_284_8;
    let (rx, ry) = (OVAL_WIDTH / 2.0, OVAL_HEIGHT / 2.0);
    let (cx, cy) = (x + rx, y + ry);
    let (kx, ky) = (rx * KAPPA, ry * KAPPA);
    let mut builder = PathBuilder::new();
    builder.move_to(cx + rx, cy);
    builder.cubic_to(cx + rx, cy + ky, cx + kx, cy + ry, cx, cy + ry);
    builder.cubic_to(cx - kx, cy + ry, cx - rx, cy + ky, cx - rx, cy);
    builder.cubic_to(cx - rx, cy - ky, cx - kx, cy - ry, cx, cy - ry);
    builder.cubic_to(cx + kx, cy - ry, cx + rx, cy - ky, cx + rx, cy);
    builder.close();
    builder.finish()
}

fn line_path(from: (f32, f32), to: (f32, f32)) -> Option<krilla::geom::Path> {
    let mut builder = PathBuilder::new();
    builder.move_to(from.0, from.1);
    builder.line_to(to.0, to.1);
    builder.finish()
}

fn rect_path(x: f32, y: f32, width: f32, height: f32) -> Option<krilla::geom::Path> {
    let mut builder = PathBuilder::new();
    builder.push_rect(Rect::from_xywh(x, y, width, height)?);
    builder.finish()
}

fn render(ballot: &Ballot<'_>, pages: &[Vec<Mark>]) -> Result<Vec<u8>, ServerError> {
    let fonts = fonts()?;
    let mut document = Document::new();
    let title = format!("{} · ballot style {}", ballot.definition.election.name, ballot.style.id);
    let title = if ballot.sample { format!("{SAMPLE_MARK} · {title}") } else { title };
    document.set_metadata(Metadata::new().title(title).language("en".into()).creator("Canvass".into()));
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or_else(|| ServerError::Internal("the ballot page size is not valid".into()))?;
    for marks in pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        if ballot.sample {
            watermark(&mut surface, fonts);
        }
        for mark in marks {
            draw(&mut surface, fonts, mark);
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|error| ServerError::Internal(format!("the ballot PDF could not be written: {error:?}")))
}

/// "SAMPLE BALLOT" across the page in light gray, under everything else.
fn watermark(surface: &mut krilla::surface::Surface<'_>, fonts: &Fonts) {
    let size = 64.0;
    let width = text_width(SAMPLE_MARK, Weight::Bold, size);
    surface.push_transform(&Transform::from_rotate_at(-50.0, PAGE_WIDTH / 2.0, PAGE_HEIGHT / 2.0));
    surface.set_fill(Some(fill(225)));
    surface.draw_text(
        Point::from_xy((PAGE_WIDTH - width) / 2.0, PAGE_HEIGHT / 2.0 + size / 3.0),
        fonts.bold.clone(),
        size,
        SAMPLE_MARK,
        false,
        TextDirection::Auto,
    );
    surface.pop();
}

fn draw(surface: &mut krilla::surface::Surface<'_>, fonts: &Fonts, mark: &Mark) {
    match mark {
        Mark::Text { x, y, size, weight, text } => {
            let font = match weight {
                Weight::Regular => fonts.regular.clone(),
                Weight::Bold => fonts.bold.clone(),
            };
            surface.set_stroke(None);
            surface.set_fill(Some(fill(0)));
            surface.draw_text(Point::from_xy(*x, *y), font, *size, text, false, TextDirection::Auto);
        }
        Mark::Oval { x, y, filled } => {
            if let Some(path) = oval_path(*x, *y) {
                surface.set_fill(filled.then(|| fill(0)));
                surface.set_stroke(Some(stroke(1.1)));
                surface.draw_path(&path);
            }
        }
        Mark::Line { from, to, width } => {
            if let Some(path) = line_path(*from, *to) {
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(*width)));
                surface.draw_path(&path);
            }
        }
        Mark::Shade { x, y, width, height } => {
            if let Some(path) = rect_path(*x, *y, *width, *height) {
                surface.set_stroke(None);
                surface.set_fill(Some(fill(230)));
                surface.draw_path(&path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use canvass_core::{
        ballot_styles::ballot_styles,
        results_sample::{SampleShape, sample_election},
    };

    use super::*;

    fn definition() -> ElectionDefinition {
        let date = time::Date::from_calendar_date(2026, time::Month::November, 3).unwrap();
        sample_election(SampleShape::SMALL, date, 7).unwrap().definition
    }

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        let text = "Superintendent of Public Instruction and Extraordinarily-long-hyphenated-name";
        let lines = wrap(text, Weight::Bold, 10.0, 90.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|line| text_width(line, Weight::Bold, 10.0) <= 90.0));
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn the_same_style_gives_the_same_bytes() {
        let definition = definition();
        let style = &ballot_styles(&definition)[0];
        let first = style_pdf(&definition, style, false).unwrap();
        assert!(first.starts_with(b"%PDF-"));
        assert_eq!(first, style_pdf(&definition, style, false).unwrap());
        assert_ne!(first, style_pdf(&definition, style, true).unwrap());
    }

    #[test]
    fn a_long_contest_continues_on_further_pages() {
        let mut definition = definition();
        let choices = definition.contests[0].choices.clone();
        for round in 0..12 {
            definition.contests[0].choices.extend(choices.iter().cloned().map(|mut choice| {
                choice.name = canvass_core::name::Name::parse(&format!("{} {round}", choice.name)).unwrap();
                choice
            }));
        }
        let style = ballot_styles(&definition).remove(0);
        let contests = style_contests(&definition, &style).unwrap();
        let pages = layout(&Ballot { definition: &definition, style: &style, sample: false }, &contests);
        assert!(pages.len() >= 2, "{} pages", pages.len());
        let continued =
            pages.iter().flatten().any(|mark| matches!(mark, Mark::Text { text, .. } if text.contains("(continued)")));
        assert!(continued);
        for marks in &pages {
            for mark in marks {
                if let Mark::Text { y, .. } | Mark::Oval { y, .. } = mark {
                    assert!(*y <= PAGE_HEIGHT - 20.0, "a mark below the page: {mark:?}");
                }
            }
        }
    }

    #[test]
    fn a_style_naming_an_unknown_contest_is_refused() {
        let definition = definition();
        let mut style = ballot_styles(&definition).remove(0);
        style.contests.push(canvass_core::id::ContestId::parse("no-such-contest").unwrap());
        assert!(matches!(style_pdf(&definition, &style, false), Err(ServerError::Invalid(_))));
    }
}
