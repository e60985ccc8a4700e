//! Images attached to requests (a phone's photo of the blocked stairwell, the broken
//! lamp): size-limited, typed by their bytes (never by their name or declared type),
//! decoded and stored as a fresh copy: no metadata (EXIF, GPS positions included) and no
//! bytes hidden after the picture survive. Every view is audited, as photos can show
//! people.

use crate::{Caller, Error, Result, Services};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::requests::MAX_ATTACHMENT_BYTES;
use doorstep_domain::{AttachmentId, RequestId};
use doorstep_store::{Attachment, AuditEntry, NewAttachment};
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// The widest or tallest image accepted, in pixels.
pub const MAX_SIDE: u32 = 10_000;
/// The most memory one decoded image may take (a 48-megapixel photo, 8 bits a channel,
/// fits); turning and scaling it take about twice that again, so images are decoded one
/// at a time.
const MAX_DECODE_BYTES: u64 = 160 * 1024 * 1024;

/// One image decoded at a time in the whole server: a burst of uploads waits its turn
/// instead of taking memory in parallel.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
/// Stored images are at most this many pixels on their longer side: enough to read a
/// notice on a wall, a fraction of a phone photo's size.
pub const STORED_SIDE: u32 = 2560;
/// The JPEG quality of stored photos.
const JPEG_QUALITY: u8 = 85;

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

/// The type of an acceptable file, or the field error code naming what is wrong; the
/// first check, before decoding.
pub fn check(bytes: &[u8]) -> Result<&'static str, &'static str> {
    if bytes.is_empty() {
        return Err("required");
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err("file_too_large");
    }
    sniff(bytes).ok_or("file_wrong_type")
}

/// Decodes an image of the sniffed type within the limits, turned upright as the
/// camera meant it (the orientation lives in the metadata that is dropped).
fn decode(bytes: &[u8], content_type: &str) -> Result<DynamicImage, &'static str> {
    let format = match content_type {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        _ => ImageFormat::WebP,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let why = |e: ImageError| match e {
        ImageError::Limits(_) => "image_too_large",
        _ => "image_unreadable",
    };
    let mut decoder = reader.into_decoder().map_err(why)?;
    // The limits above bound the sides; the decoded buffer is checked here, before it
    // is made (a small PNG can declare 10,000 × 10,000 pixels of 16-bit colour).
    if decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err("image_too_large");
    }
    let orientation = decoder.orientation().map_err(why)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(why)?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// The stored copy: PNG for images with transparency (drawings, screenshots), JPEG for
/// photos; at most [`STORED_SIDE`] pixels on the longer side.
fn reencode(img: DynamicImage) -> Result<(&'static str, Vec<u8>), &'static str> {
    let img = if img.width().max(img.height()) > STORED_SIDE {
        img.resize(
            STORED_SIDE,
            STORED_SIDE,
            image::imageops::FilterType::Triangle,
        )
    } else {
        img
    };
    let mut out = Vec::new();
    let written = if img.color().has_alpha() {
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .map(|()| "image/png")
    } else {
        let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
        rgb.write_with_encoder(enc).map(|()| "image/jpeg")
    };
    written.map(|t| (t, out)).map_err(|_| "image_unreadable")
}

/// The stored copy of an uploaded image, or the field error code naming what is wrong.
pub fn clean(bytes: &[u8]) -> Result<(&'static str, Vec<u8>), &'static str> {
    let content_type = check(bytes)?;
    reencode(decode(bytes, content_type)?)
}

/// An image checked, decoded and re-encoded, ready to store; or the error on `field`.
/// The decoding runs off the request threads.
pub async fn prepare(field: &str, bytes: &[u8]) -> Result<NewAttachment> {
    let owned = bytes.to_vec();
    let _turn = DECODING
        .acquire()
        .await
        .map_err(|e| Error::internal(format!("image decoding closed: {e}")))?;
    let cleaned = tokio::task::spawn_blocking(move || clean(&owned))
        .await
        .map_err(|e| Error::internal(format!("image decoding stopped: {e}")))?;
    let (content_type, data) = cleaned.map_err(|code| Error::validation(field, code))?;
    Ok(NewAttachment {
        content_type: content_type.to_string(),
        sha256: format!("{:x}", Sha256::digest(&data)),
        data,
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
    let a = prepare(field, bytes).await?;
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
    use image::{GrayImage, RgbImage, RgbaImage};
    use proptest::prelude::*;

    fn encoded(img: DynamicImage, f: ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), f).unwrap();
        out
    }

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        encoded(
            DynamicImage::ImageRgb8(RgbImage::new(w, h)),
            ImageFormat::Jpeg,
        )
    }

    /// A JPEG with an EXIF segment right after its start: orientation 6 (turned a
    /// quarter clockwise) and a GPS pointer with a marker text a leak would carry.
    fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
        let mut tiff = b"MM\0*\0\0\0\x08".to_vec();
        tiff.extend([0, 2]); // two entries
        tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation = 6
        tiff.extend([0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0x26]); // GPSInfo IFD
        tiff.extend([0, 0, 0, 0]); // no next IFD
        tiff.extend(b"GPS-31.2125N-121.5480E");
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff);
        let len = u16::try_from(app1.len() + 2).unwrap().to_be_bytes();
        let plain = jpeg(w, h);
        let mut out = plain[..2].to_vec();
        out.extend([0xFF, 0xE1, len[0], len[1]]);
        out.extend(app1);
        out.extend(&plain[2..]);
        out
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn known_signatures_pass_the_first_check_and_others_fail() {
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

    #[test]
    fn a_signature_followed_by_html_is_not_an_image() {
        for head in [
            &b"\x89PNG\r\n\x1a\n"[..],
            b"\xFF\xD8\xFF\xE0",
            b"RIFF\0\0\0\0WEBPVP8 ",
        ] {
            let mut b = head.to_vec();
            b.extend(b"<html><script>alert(document.cookie)</script></html>");
            assert_eq!(clean(&b), Err("image_unreadable"));
        }
    }

    #[test]
    fn photos_lose_their_metadata_and_stand_upright() {
        let raw = jpeg_with_exif(40, 20);
        assert!(contains(&raw, b"Exif") && contains(&raw, b"GPS-31.2125N"));
        let (t, stored) = clean(&raw).unwrap();
        assert_eq!(t, "image/jpeg");
        assert!(!contains(&stored, b"Exif") && !contains(&stored, b"GPS-31"));
        let back = image::load_from_memory(&stored).unwrap();
        assert_eq!(
            (back.width(), back.height()),
            (20, 40),
            "turned as the camera said"
        );
    }

    #[test]
    fn bytes_after_the_picture_do_not_survive() {
        let mut png = encoded(
            DynamicImage::ImageRgba8(RgbaImage::new(3, 2)),
            ImageFormat::Png,
        );
        png.extend(b"<script>alert(1)</script>");
        let (t, stored) = clean(&png).unwrap();
        assert_eq!(t, "image/png", "transparency keeps the PNG");
        assert!(!contains(&stored, b"<script>"));
        let gray = encoded(
            DynamicImage::ImageLuma8(GrayImage::new(3, 2)),
            ImageFormat::Png,
        );
        assert_eq!(
            clean(&gray).unwrap().0,
            "image/jpeg",
            "an opaque picture is a photo"
        );
        let webp = encoded(
            DynamicImage::ImageRgb8(RgbImage::new(3, 2)),
            ImageFormat::WebP,
        );
        assert_eq!(clean(&webp).unwrap().0, "image/jpeg");
    }

    #[test]
    fn a_small_file_cannot_ask_for_a_huge_buffer() {
        // A PNG header declaring 9,000 × 9,000 pixels of 16-bit RGBA (648 MB decoded),
        // in 77 bytes: refused before any buffer is made.
        fn crc32(bytes: &[u8]) -> u32 {
            let mut c = 0xFFFF_FFFFu32;
            for b in bytes {
                c ^= u32::from(*b);
                for _ in 0..8 {
                    c = if c & 1 == 1 {
                        (c >> 1) ^ 0xEDB8_8320
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        }
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
            let body = [kind, data].concat();
            out.extend(&body);
            out.extend(crc32(&body).to_be_bytes());
            out
        };
        let mut ihdr = 9_000u32.to_be_bytes().to_vec();
        ihdr.extend(9_000u32.to_be_bytes());
        ihdr.extend([16, 6, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &ihdr));
        png.extend(chunk(
            b"IDAT",
            &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        ));
        png.extend(chunk(b"IEND", &[]));
        assert_eq!(clean(&png), Err("image_too_large"));
    }

    #[test]
    fn sizes_are_limited_and_large_photos_scaled_down() {
        let wide = encoded(
            DynamicImage::ImageLuma8(GrayImage::new(MAX_SIDE + 1, 1)),
            ImageFormat::Png,
        );
        assert_eq!(clean(&wide), Err("image_too_large"));
        let (_, stored) = clean(&jpeg(STORED_SIDE * 2, 10)).unwrap();
        let back = image::load_from_memory(&stored).unwrap();
        assert_eq!((back.width(), back.height()), (STORED_SIDE, 5));
        let (_, small) = clean(&jpeg(640, 480)).unwrap();
        let back = image::load_from_memory(&small).unwrap();
        assert_eq!(
            (back.width(), back.height()),
            (640, 480),
            "small ones keep their size"
        );
    }

    proptest! {
        /// Whatever the bytes after a signature, cleaning never panics, and what it keeps
        /// is a fresh image of one of the stored types.
        #[test]
        fn only_decodable_images_are_kept(bytes in prop::collection::vec(any::<u8>(), 0..256), prefix in 0usize..4) {
            let heads: [&[u8]; 4] = [b"", b"\xFF\xD8\xFF", b"\x89PNG\r\n\x1a\n", b"RIFF1234WEBP"];
            let mut b = heads[prefix].to_vec();
            b.extend(bytes);
            match clean(&b) {
                Ok((t, data)) => {
                    prop_assert!(["image/jpeg", "image/png"].contains(&t));
                    prop_assert!(image::load_from_memory(&data).is_ok());
                }
                Err(e) => prop_assert!(
                    ["required", "file_wrong_type", "image_unreadable", "image_too_large"].contains(&e)
                ),
            }
        }
    }
}
