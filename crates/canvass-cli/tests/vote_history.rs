//! `canvass voters import --format ncvhis`, `voters vote-history` and `voters set-signature`
//! through the real binary, after an ncvoter import: the history imports (a malformed row lands
//! in the report), a re-import changes nothing, the history lists; a signature image is sealed
//! (a non-image and an oversized file refused), is not in the database files in the clear and
//! not in the public extract.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{fs, path::Path};

use support::{enrol_second_factor, init_node, run, stderr, stdout};

const STATE: &str = "ocd-division/country:us/state:nc";
const PASSPHRASE: &str = "the history test key ring passphrase";
const MARKER: &[u8] = b"QZXSIGNATUREBYTESMARK";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Hands out authenticator codes for successive sign-ins: each must be for a later time step
/// than the last, and at most one step ahead of now, so it waits when it has to.
struct Codes {
    secret: canvass_crypto::TotpSecret,
    last_step: u64,
}

impl Codes {
    fn next(&mut self) -> String {
        loop {
            let now = unix_seconds();
            let step = (now / 30).max(self.last_step + 1);
            if step <= now / 30 + 1 {
                self.last_step = step;
                return self.secret.code_at(step * 30);
            }
            std::thread::sleep(std::time::Duration::from_secs(30 - now % 30 + 1));
        }
    }
}

fn generated(directory: &Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let path = directory.join(name);
    let mut arguments = vec!["voters", "generate", "--out", path.to_str().unwrap()];
    arguments.extend_from_slice(extra);
    let output = run(&arguments);
    assert!(output.status.success(), "{}", stderr(&output));
    path
}

#[test]
fn history_imports_after_the_roll_and_a_signature_is_sealed_and_never_exported() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    let passphrase = directory.path().join("key-passphrase");
    fs::write(&passphrase, PASSPHRASE).unwrap();
    let passphrase_text = passphrase.to_str().unwrap();
    for step in [
        vec!["jurisdiction", "add", "--data", data_text, "--id", STATE, "--name", "North Carolina", "--kind", "state"],
        vec!["keys", "init", "--data", data_text, "--jurisdiction", STATE, "--passphrase-file", passphrase_text],
    ] {
        let output = run(&step);
        assert!(output.status.success(), "{step:?}: {}", stderr(&output));
    }
    let voters = generated(directory.path(), "voters.tsv", &["--rows", "200"]);
    let history = generated(directory.path(), "history.tsv", &["--rows", "300", "--history"]);
    // One malformed row (an impossible election date) at line 302.
    let mut text = fs::read_to_string(&history).unwrap();
    let second: Vec<String> = text.lines().nth(1).unwrap().split('\t').map(str::to_owned).collect();
    let mut bad = second.clone();
    bad[3] = "02/30/2024".into();
    text.push_str(&(bad.join("\t") + "\n"));
    fs::write(&history, text).unwrap();
    let first_voter = second[10].clone();

    let password = directory.path().join("admin-password");
    let password_text = password.to_str().unwrap().to_owned();
    let mut codes = Codes { secret: enrol_second_factor(&data, "admin"), last_step: 0 };
    let mut signed = |arguments: &[&str], unlock: bool| {
        let code = codes.next();
        let mut all: Vec<&str> = arguments.to_vec();
        all.extend_from_slice(&["--data", data_text, "--user", "admin", "--password-file", &password_text]);
        all.extend_from_slice(&["--totp-code", &code]);
        if unlock {
            all.extend_from_slice(&["--passphrase-file", passphrase_text]);
        }
        run(&all)
    };

    let roll = ["voters", "import", "--jurisdiction", STATE, "--format", "ncvoter", "--add-places"];
    let output = signed(&[&roll[..], &[voters.to_str().unwrap()]].concat(), true);
    assert!(output.status.success(), "{}", stderr(&output));
    let import = ["voters", "import", "--jurisdiction", STATE, "--format", "ncvhis", history.to_str().unwrap()];
    // No key ring is opened for history: no passphrase is given.
    let output = signed(&import, false);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("300 new, 0 changed, 0 unchanged, 1 rejected"), "{}", stdout(&output));
    let report = fs::read_to_string(directory.path().join("history.tsv.rejected.tsv")).unwrap();
    assert!(report.starts_with("line\tcolumn\treason\n"), "{report}");
    assert!(report.contains("302\telection_lbl\t") && !report.contains("02/30/2024"), "{report}");
    let again = signed(&import, false);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains("0 new, 0 changed, 300 unchanged, 1 rejected"), "{}", stdout(&again));

    // Refused before anyone signs in: not an image, and too large.
    let set = |file: &Path, code: &str| {
        run(&[
            "voters",
            "set-signature",
            "--jurisdiction",
            STATE,
            "--registration-number",
            &first_voter,
            file.to_str().unwrap(),
            "--data",
            data_text,
            "--user",
            "admin",
            "--password-file",
            &password_text,
            "--totp-code",
            code,
            "--passphrase-file",
            passphrase_text,
        ])
    };
    let not_image = directory.path().join("signature.txt");
    fs::write(&not_image, "a signature, typed").unwrap();
    let refused = set(&not_image, "000000");
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("PNG or JPEG"), "{}", stderr(&refused));
    let oversized = directory.path().join("signature-large.png");
    let mut large = b"\x89PNG\r\n\x1a\n".to_vec();
    large.resize(1024 * 1024 + 1, 0);
    fs::write(&oversized, &large).unwrap();
    let refused = set(&oversized, "000000");
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("1 MiB"), "{}", stderr(&refused));
    assert!(!stderr(&refused).contains("panicked"));

    let image = directory.path().join("signature.png");
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(MARKER);
    png.extend(std::iter::repeat_n(3u8, 500));
    fs::write(&image, &png).unwrap();
    let arguments = ["voters", "set-signature", "--jurisdiction", STATE, "--registration-number", &first_voter];
    let stored = signed(&[&arguments[..], &[image.to_str().unwrap()]].concat(), true);
    assert!(stored.status.success(), "{}", stderr(&stored));
    assert!(stdout(&stored).contains("image/png"), "{}", stdout(&stored));

    let listed = signed(
        &["voters", "vote-history", "--jurisdiction", STATE, "--registration-number", &first_voter, "--json"],
        false,
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    let votes: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert!(!votes.as_array().unwrap().is_empty(), "{votes}");
    assert!(votes[0]["voting_method"].is_string() && votes[0]["election_date"].is_string(), "{votes}");

    let extract = signed(&["voters", "export-public", "--jurisdiction", STATE], true);
    assert!(extract.status.success(), "{}", stderr(&extract));
    assert!(!extract.stdout.windows(MARKER.len()).any(|window| window == MARKER), "no signature in the extract");
    assert_eq!(stdout(&extract).lines().count(), 201, "the roll's voters, nothing else");

    // The image is nowhere in the database's files in the clear.
    for entry in fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = fs::read(&path).unwrap();
            assert!(!bytes.windows(MARKER.len()).any(|window| window == MARKER), "image bytes in {}", path.display());
        }
    }
}
