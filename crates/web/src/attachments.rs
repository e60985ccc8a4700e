//! Images attached to requests: size-limited and type-checked by their bytes (a phone's
//! photo of the blocked stairwell, the broken lamp), never by the name or declared type.

use crate::{AppError, AppState};
use doorstep_domain::FieldErrors;
use doorstep_store::{Attachment, WriteCtx};
use sha2::{Digest, Sha256};

/// The largest image accepted, in bytes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Room for three images and the form around them.
pub const BODY_LIMIT: usize = 3 * MAX_BYTES + 256 * 1024;

/// The image type the bytes are, by their signature: JPEG, PNG or WebP.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The type of an acceptable image, or the field error naming what is wrong with it.
pub fn check(bytes: &[u8]) -> Result<&'static str, &'static str> {
    if bytes.is_empty() {
        return Err("required");
    }
    if bytes.len() > MAX_BYTES {
        return Err("file_too_large");
    }
    sniff(bytes).ok_or("file_wrong_type")
}

fn field_error(field: &str, code: &'static str) -> AppError {
    let mut e = FieldErrors::new();
    e.add(field, code);
    AppError::Validation(e)
}

/// Checks and stores one image of a request.
pub async fn attach(
    state: &AppState,
    request_id: i64,
    field: &str,
    bytes: &[u8],
    ctx: &WriteCtx,
) -> Result<Attachment, AppError> {
    let content_type = check(bytes).map_err(|code| field_error(field, code))?;
    let sha = format!("{:x}", Sha256::digest(bytes));
    Ok(state
        .store
        .add_attachment(request_id, content_type, &sha, bytes, ctx)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_signatures_pass_and_others_fail() {
        assert_eq!(check(b"\xFF\xD8\xFF\xE0rest"), Ok("image/jpeg"));
        assert_eq!(check(b"\x89PNG\r\n\x1a\nrest"), Ok("image/png"));
        assert_eq!(check(b"RIFF\0\0\0\0WEBPVP8 "), Ok("image/webp"));
        assert_eq!(check(b"<svg onload=alert(1)>"), Err("file_wrong_type"));
        assert_eq!(check(b"%PDF-1.7"), Err("file_wrong_type"));
        assert_eq!(check(b""), Err("required"));
        let mut big = b"\xFF\xD8\xFF".to_vec();
        big.resize(MAX_BYTES + 1, 0);
        assert_eq!(check(&big), Err("file_too_large"));
    }

    proptest! {
        /// Whatever the bytes, an accepted file is one of the three image types and fits.
        #[test]
        fn only_small_images_are_accepted(bytes in prop::collection::vec(any::<u8>(), 0..64), prefix in 0usize..4) {
            let heads: [&[u8]; 4] = [b"", b"\xFF\xD8\xFF", b"\x89PNG\r\n\x1a\n", b"RIFF1234WEBP"];
            let mut b = heads[prefix].to_vec();
            b.extend(bytes);
            match check(&b) {
                Ok(t) => {
                    prop_assert!(["image/jpeg", "image/png", "image/webp"].contains(&t));
                    prop_assert_eq!(Some(t), sniff(&b));
                }
                Err(e) => prop_assert!(["required", "file_wrong_type"].contains(&e)),
            }
        }
    }
}
