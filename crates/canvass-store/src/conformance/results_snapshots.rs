//! Published results snapshots: stored whole with their files, bodies kept once per hash,
//! sequences unique per election, the latest per election listed, nothing written on refusal.

use canvass_core::id::ElectionId;

use super::{Scenario, ScenarioFuture};
use crate::{SnapshotHeader, Store, StoreError, StoredBody, StoredSnapshot, StoredSnapshotFile};

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "results_snapshots_share_bodies_and_keep_every_sequence",
        run: results_snapshots_share_bodies_and_keep_every_sequence,
    }]
}

fn hash(seed: char) -> String {
    std::iter::repeat_n(seed, 64).collect()
}

fn body(seed: char, text: &str) -> StoredBody {
    StoredBody {
        sha256: hash(seed),
        identity: text.as_bytes().to_vec(),
        gzip: format!("gz:{text}").into_bytes(),
        brotli: format!("br:{text}").into_bytes(),
    }
}

fn snapshot(election: &str, date: &str, sequence: u64, files: &[(&str, char)]) -> StoredSnapshot {
    StoredSnapshot {
        header: SnapshotHeader {
            election: ElectionId::parse(election).unwrap(),
            election_name: format!("{election} general"),
            election_date: date.into(),
            sequence,
            published_at: 1_700_000_000 + i64::try_from(sequence).unwrap(),
            manifest_sha256: hash(char::from_digit(u32::try_from(sequence % 10).unwrap(), 10).unwrap()),
        },
        manifest: format!("{{\"sequence\":{sequence}}}").into_bytes(),
        signature: vec![7; 64],
        files: files
            .iter()
            .map(|(path, seed)| StoredSnapshotFile {
                path: (*path).into(),
                sha256: hash(*seed),
                content_type: "application/json".into(),
            })
            .collect(),
    }
}

fn results_snapshots_share_bodies_and_keep_every_sequence(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let election = ElectionId::parse("zz-2026").unwrap();
        assert!(store.results_snapshots(&election).await.unwrap().is_empty());
        assert!(store.latest_results_snapshots().await.unwrap().is_empty());

        let first = snapshot("zz-2026", "2026-11-03", 1, &[("summary.json", 'a'), ("index.html", 'b')]);
        store.put_results_snapshot(&first, &[body('a', "one"), body('b', "page")]).await.unwrap();
        assert_eq!(store.results_snapshot(&election, 1).await.unwrap().unwrap().files, {
            let mut files = first.files.clone();
            files.sort_by(|left, right| left.path.cmp(&right.path));
            files
        });
        assert_eq!(store.results_body(&hash('a')).await.unwrap(), Some(body('a', "one")));

        // The second snapshot shares the page; a body sent again is left as stored.
        let known = store.known_results_bodies(&[hash('a'), hash('b'), hash('c')]).await.unwrap();
        let mut known = known;
        known.sort();
        assert_eq!(known, vec![hash('a'), hash('b')]);
        let second = snapshot("zz-2026", "2026-11-03", 2, &[("summary.json", 'c'), ("index.html", 'b')]);
        let resent = StoredBody { gzip: b"other".to_vec(), ..body('b', "page") };
        store.put_results_snapshot(&second, &[body('c', "two"), resent]).await.unwrap();
        assert_eq!(store.results_body(&hash('b')).await.unwrap(), Some(body('b', "page")));
        assert_eq!(store.results_snapshot(&election, 1).await.unwrap().unwrap().manifest, first.manifest);

        // Refusals write nothing: a sequence taken, a body missing, an invalid hash.
        let taken = snapshot("zz-2026", "2026-11-03", 2, &[("summary.json", 'd')]);
        let error = store.put_results_snapshot(&taken, &[body('d', "three")]).await.unwrap_err();
        assert!(matches!(error, StoreError::AlreadyExists { .. }), "{error:?}");
        assert!(store.results_body(&hash('d')).await.unwrap().is_none(), "a refused snapshot left a body");
        let dangling = snapshot("zz-2026", "2026-11-03", 3, &[("summary.json", 'e')]);
        let error = store.put_results_snapshot(&dangling, &[]).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");
        assert!(store.results_snapshot(&election, 3).await.unwrap().is_none());
        let mut invalid = snapshot("zz-2026", "2026-11-03", 3, &[("summary.json", 'a')]);
        invalid.files[0].sha256 = "A".repeat(64);
        assert!(store.put_results_snapshot(&invalid, &[]).await.is_err());
        let unknown = ElectionId::parse("zz-unknown").unwrap();
        assert!(store.results_snapshot(&unknown, 1).await.unwrap().is_none());

        // The latest per election, newest election first.
        let other = snapshot("zz-2024", "2024-11-05", 1, &[("summary.json", 'a')]);
        store.put_results_snapshot(&other, &[]).await.unwrap();
        let sequences: Vec<u64> =
            store.results_snapshots(&election).await.unwrap().iter().map(|header| header.sequence).collect();
        assert_eq!(sequences, vec![1, 2]);
        let latest = store.latest_results_snapshots().await.unwrap();
        assert_eq!(latest, vec![second.header.clone(), other.header.clone()]);
    })
}
