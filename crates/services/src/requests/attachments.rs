//! Images attached to requests (a phone's photo of the blocked stairwell, the broken
//! lamp): size-limited and typed by their bytes, never by their name or declared type;
//! every view is audited, as photos can show people.

use crate::{Caller, Error, Result, Services};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::requests::MAX_ATTACHMENT_BYTES;
use doorstep_domain::{AttachmentId, RequestId};
use doorstep_store::{Attachment, AuditEntry, NewAttachment};
use sha2::{Digest, Sha256};

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

/// The type of an acceptable image, or the field error code naming what is wrong.
pub fn check(bytes: &[u8]) -> Result<&'static str, &'static str> {
    if bytes.is_empty() {
        return Err("required");
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err("file_too_large");
    }
    sniff(bytes).ok_or("file_wrong_type")
}

/// An image checked and ready to store, or the error on `field`.
pub fn prepare(field: &str, bytes: &[u8]) -> Result<NewAttachment> {
    let content_type = check(bytes).map_err(|code| Error::validation(field, code))?;
    Ok(NewAttachment {
        content_type: content_type.to_string(),
        sha256: format!("{:x}", Sha256::digest(bytes)),
        data: bytes.to_vec(),
    })
}

/// Adds an image to a request the caller may read; `field` names the form field in
/// errors.
pub async fn attach(
    sv: &Services,
    who: &Caller,
    id: RequestId,
    field: &str,
    bytes: &[u8],
) -> Result<Attachment> {
    super::get(sv, who, id).await?;
    let a = prepare(field, bytes)?;
    Ok(sv.store.attachments().add(id, &a, &sv.ctx(who)).await?)
}

/// The images of a request the caller may read.
pub async fn list(sv: &Services, who: &Caller, id: RequestId) -> Result<Vec<Attachment>> {
    super::get(sv, who, id).await?;
    Ok(sv.store.attachments().list(id).await?)
}

/// An image's type and bytes, for a caller who may read the request; audited.
pub async fn view(
    sv: &Services,
    who: &Caller,
    id: RequestId,
    attachment: AttachmentId,
) -> Result<(String, Vec<u8>)> {
    super::get(sv, who, id).await?;
    let (content_type, data) = sv.store.attachments().data(id, attachment).await?;
    let what = serde_json::json!({"attachment": attachment});
    let entry = AuditEntry::write(AuditAction::ViewAttachment, AuditEntity::Request, id, what);
    sv.store.audit().record(&sv.ctx(who), entry).await?;
    Ok((content_type, data))
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
        big.resize(MAX_ATTACHMENT_BYTES + 1, 0);
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
