//! `canvass places`: polling places. `import` replaces a jurisdiction's polling places with
//! those of a Voting Information Project 5 feed; a staff member signs in, but no key ring is
//! opened, since polling places are public data.

use std::{path::Path, path::PathBuf, process::ExitCode};

use anyhow::bail;
use canvass_core::{access::Operation, id::JurisdictionId};
use canvass_server::{
    places_import::{self, PlacesSettings, PlacesSummary},
    service,
};
use clap::{Args, Subcommand, ValueEnum};

use crate::{
    data_dir,
    sign_in::{self, StaffSignIn},
};

#[derive(Debug, Subcommand)]
pub enum PlacesCommand {
    /// Import the polling places of a feed for a jurisdiction (a county, or a state for its
    /// counties' precincts), replacing the ones it had. The feed's precincts are matched to the
    /// jurisdiction's by number and name; those that match none are listed, not fatal.
    Import(PlacesImportArguments),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlacesFormat {
    /// Voting Information Project 5 XML (`VipObject`).
    Vip5,
}

#[derive(Debug, Args)]
pub struct PlacesImportArguments {
    /// The jurisdiction whose polling places the feed replaces.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_enum)]
    pub format: PlacesFormat,
    /// The feed.
    pub file: PathBuf,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

pub async fn run(data: &Path, command: PlacesCommand) -> anyhow::Result<ExitCode> {
    match command {
        PlacesCommand::Import(arguments) => import(data, &arguments).await,
    }
}

async fn import(data: &Path, arguments: &PlacesImportArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    if !arguments.file.is_file() {
        bail!("{} is not a file", arguments.file.display());
    }
    // The file is read whole before anyone signs in: a wrong file is refused without spending
    // a second-factor code, and the import then cannot fail half-way through reading it.
    let file = match arguments.format {
        PlacesFormat::Vip5 => places_import::read_vip5(&arguments.file).await?,
    };
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        service::require_jurisdiction(store.as_ref(), &jurisdiction).await?;
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::ImportPlaces, &jurisdiction).await?;
        let settings = PlacesSettings { jurisdiction: jurisdiction.clone(), actor: signed_in.username.to_string() };
        let summary = places_import::import_feed(store.as_ref(), &signed_in.audit, &file, &settings).await?;
        print_summary(&summary, &arguments.file);
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

fn print_summary(summary: &PlacesSummary, file: &Path) {
    let import = &summary.import;
    println!(
        "Imported {} polling places from {} into {} as {} ({} precincts matched, {} of the feed's precincts unmatched).",
        import.places,
        file.display(),
        import.jurisdiction,
        import.id,
        import.precincts_matched,
        import.precincts_unmatched
    );
    if summary.replaced > 0 {
        println!("They replace the {} polling places {} had.", summary.replaced, import.jurisdiction);
    }
    if !summary.unmatched.is_empty() {
        println!("Unmatched feed precincts (their voters get no polling place from this feed):");
        for unmatched in &summary.unmatched {
            println!("  {} {}: {}", unmatched.feed_id, unmatched.name, unmatched.reason);
        }
    }
    if !summary.without_place.is_empty() {
        // A statewide import may leave thousands: the first few say enough.
        const SHOWN: usize = 20;
        let ids: Vec<&str> = summary.without_place.iter().take(SHOWN).map(|id| id.as_str()).collect();
        let more = summary.without_place.len().saturating_sub(SHOWN);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        println!(
            "{} precincts of {} have no polling place: {}{more}",
            summary.without_place.len(),
            import.jurisdiction,
            ids.join(", ")
        );
    }
    if summary.skipped_places > 0 {
        println!(
            "Left out {} of the feed's polling places that serve none of these precincts.",
            summary.skipped_places
        );
    }
}
