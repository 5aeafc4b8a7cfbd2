//! Field encryption cost against the provider's raw AES-256-GCM on the same machine, and the
//! blind-index rate. `cargo bench -p canvass-crypto --bench fields`
//!
//! The reference (`raw_aes_256_gcm`) is ring sealing the same 16-byte value with a prepared
//! key and a fixed nonce and no associated data: the floor any field encryption on this
//! provider can reach. The ratio of the two is what the wrapper adds (nonce, header, context).
// A benchmark: a failed setup should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use canvass_crypto::{FieldCipher, FieldContext, IndexKey, SecretKey, choose_index_bits};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

const VALUE: &[u8] = b"O'BRIEN-NUNEZ 12"; // a 16-byte field, the size of a typical name

fn context() -> FieldContext<'static> {
    FieldContext {
        jurisdiction: "ocd-division/country:us/state:nc/county:wake",
        table: "voters",
        record: "NC000123456",
        field: "last_name",
        key_version: 1,
    }
}

fn benchmarks(criterion: &mut Criterion) {
    let key = SecretKey::generate().unwrap();
    let cipher = FieldCipher::new(&key, 1).unwrap();
    let sealed = cipher.seal(&context(), VALUE).unwrap();
    let raw_key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());

    let mut group = criterion.benchmark_group("field");
    group.throughput(Throughput::Elements(1));
    group.bench_function("raw_aes_256_gcm_seal_reference", |bench| {
        bench.iter(|| {
            let mut buffer = VALUE.to_vec();
            raw_key
                .seal_in_place_append_tag(Nonce::assume_unique_for_key([0u8; 12]), Aad::empty(), &mut buffer)
                .unwrap();
            black_box(buffer)
        })
    });
    group.bench_function("seal", |bench| bench.iter(|| black_box(cipher.seal(&context(), black_box(VALUE)).unwrap())));
    group
        .bench_function("open", |bench| bench.iter(|| black_box(cipher.open(&context(), black_box(&sealed)).unwrap())));
    group.bench_function("seal_and_open", |bench| {
        bench.iter(|| {
            let sealed = cipher.seal(&context(), black_box(VALUE)).unwrap();
            black_box(cipher.open(&context(), &sealed).unwrap())
        })
    });
    group.finish();

    let index = IndexKey::new(&SecretKey::generate().unwrap());
    let bits = choose_index_bits(10_000_000);
    let mut group = criterion.benchmark_group("blind_index");
    group.throughput(Throughput::Elements(1));
    group.bench_function("compound_last_name_birth_date_ssn4", |bench| {
        bench.iter(|| black_box(index.compute(&[b"OBRIENNUNEZ", b"19800209", b"1234"], bits).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
