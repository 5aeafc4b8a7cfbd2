//! `canvass ballots pdf`: blank ballots as PDF, one per ballot style, from a stored election
//! definition (`canvass_server::ballot_pdf`). `--style S --out FILE` writes one style,
//! `--all --out DIR` writes every style as `DIR/{style}.pdf` with a progress bar. Ballot
//! contents are public, so no sign-in is needed; the files are the same bytes every run.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context;
use canvass_core::{ballot_styles::ballot_styles, id::ElectionId};
use canvass_server::ballot_pdf;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::data_dir;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["style", "all"])))]
pub struct PdfArguments {
    /// The election's id.
    #[arg(long, value_name = "ID")]
    pub election: String,
    /// One ballot style (`style-1`, ...; `canvass ballots pdf --all` makes them all).
    #[arg(long, value_name = "STYLE")]
    pub style: Option<String>,
    /// Every ballot style of the election, as DIR/{style}.pdf.
    #[arg(long)]
    pub all: bool,
    /// The file to write (with --style) or the directory (with --all; made if missing).
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// Mark every page "SAMPLE BALLOT" (the public site's sample ballots).
    #[arg(long)]
    pub sample: bool,
}

pub async fn run(data: &Path, arguments: &PdfArguments) -> anyhow::Result<ExitCode> {
    let election =
        ElectionId::parse(arguments.election.trim()).map_err(|error| anyhow::anyhow!("--election: {error}"))?;
    let (_, store) = data_dir::open_existing(data).await?;
    let definition = store.election_definition(&election).await;
    store.close().await;
    let definition = definition?.ok_or_else(|| anyhow::anyhow!("--election: there is no election {election}"))?;
    let styles = ballot_styles(&definition);
    if styles.is_empty() {
        anyhow::bail!("--election: {election} has no ballot style (no precinct votes on any of its contests)");
    }
    if let Some(wanted) = &arguments.style {
        let style = styles.iter().find(|style| style.id == wanted.trim()).ok_or_else(|| {
            anyhow::anyhow!(
                "--style: {election} has no style {wanted}; its styles are style-1 to style-{}",
                styles.len()
            )
        })?;
        let pdf = ballot_pdf::style_pdf(&definition, style, arguments.sample)?;
        std::fs::write(&arguments.out, pdf).with_context(|| format!("cannot write {}", arguments.out.display()))?;
        println!("Wrote ballot style {} of {election} to {}.", style.id, arguments.out.display());
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(&arguments.out)
        .with_context(|| format!("cannot make the directory {}", arguments.out.display()))?;
    let bar = ProgressBar::new(styles.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("ballot PDFs {bar:30} {pos}/{len} styles, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for style in &styles {
        let pdf = ballot_pdf::style_pdf(&definition, style, arguments.sample)?;
        let path = arguments.out.join(format!("{}.pdf", style.id));
        std::fs::write(&path, pdf).with_context(|| format!("cannot write {}", path.display()))?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("Wrote {} ballot styles of {election} to {}.", styles.len(), arguments.out.display());
    Ok(ExitCode::SUCCESS)
}
