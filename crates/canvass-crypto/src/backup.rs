//! Backup files are age-encrypted (age-encryption.org/v1, scrypt passphrase recipient):
//! confidential and integrity-protected as a whole, so a damaged or truncated file is refused.

use std::io::{Read, Write};

use secrecy::{ExposeSecret, SecretString};

use crate::CryptoError;

fn age_passphrase(passphrase: &SecretString) -> age::secrecy::SecretString {
    age::secrecy::SecretString::from(passphrase.expose_secret().to_owned())
}

/// Encrypts everything read from `input` into `output` under the passphrase.
pub fn encrypt_backup(passphrase: &SecretString, input: &mut impl Read, output: impl Write) -> Result<(), CryptoError> {
    let encryptor = age::Encryptor::with_user_passphrase(age_passphrase(passphrase));
    let mut writer = encryptor.wrap_output(output).map_err(|error| CryptoError::Backup(error.to_string()))?;
    std::io::copy(input, &mut writer).map_err(|error| CryptoError::Backup(error.to_string()))?;
    writer.finish().map_err(|error| CryptoError::Backup(error.to_string()))?;
    Ok(())
}

/// Decrypts a backup into `output`; any change to the file, a truncation or the wrong
/// passphrase is an error, and `output` must then be discarded.
pub fn decrypt_backup(passphrase: &SecretString, input: impl Read, output: &mut impl Write) -> Result<(), CryptoError> {
    let decryptor = age::Decryptor::new(std::io::BufReader::new(input)).map_err(|error| {
        CryptoError::Backup(format!("this is not a canvass backup file, or its header is damaged ({error})"))
    })?;
    if !decryptor.is_scrypt() {
        return Err(CryptoError::Backup("this backup is not passphrase-encrypted".into()));
    }
    let mut identity = age::scrypt::Identity::new(age_passphrase(passphrase));
    // Accept files made on slower or faster machines, up to about 2^22 scrypt work.
    identity.set_max_work_factor(22);
    let mut reader =
        decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)).map_err(|error| match error {
            age::DecryptError::NoMatchingKeys | age::DecryptError::DecryptionFailed => CryptoError::WrongPassphrase,
            other => CryptoError::Backup(format!("cannot decrypt the backup: {other}")),
        })?;
    std::io::copy(&mut reader, output).map_err(|error| {
        CryptoError::Backup(format!(
            "the backup is damaged or truncated: its contents fail their integrity check ({error})"
        ))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_round_trip_and_refuse_damage_truncation_and_wrong_passphrases() {
        let passphrase = SecretString::from("a backup passphrase of some length");
        let contents: Vec<u8> = (0..200_000u32).flat_map(|n| n.to_le_bytes()).collect();
        let mut encrypted = Vec::new();
        encrypt_backup(&passphrase, &mut contents.as_slice(), &mut encrypted).unwrap();
        let mut decrypted = Vec::new();
        decrypt_backup(&passphrase, encrypted.as_slice(), &mut decrypted).unwrap();
        assert_eq!(decrypted, contents);

        let wrong =
            decrypt_backup(&SecretString::from("another passphrase entirely"), encrypted.as_slice(), &mut Vec::new());
        assert!(matches!(wrong, Err(CryptoError::WrongPassphrase)), "{wrong:?}");
        let truncated = decrypt_backup(&passphrase, &encrypted[..encrypted.len() - 100], &mut Vec::new());
        assert!(
            matches!(truncated, Err(CryptoError::Backup(ref message)) if message.contains("truncated")),
            "{truncated:?}"
        );
        let mut damaged = encrypted.clone();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 1;
        assert!(decrypt_backup(&passphrase, damaged.as_slice(), &mut Vec::new()).is_err());
        assert!(decrypt_backup(&passphrase, &b"not a backup"[..], &mut Vec::new()).is_err());
    }
}
