//! Field encryption for personal data (PIPL): ID numbers and phones are stored sealed
//! with AES-256-GCM (a random 96-bit nonce per value) and found by an HMAC-SHA256 of the
//! value under a second key. Both keys derive from one master key given in the
//! configuration, never stored in the database. A sealed value names the key it was
//! sealed under, so after a rotation the previous keys still open old values while
//! `doorstep keys rotate` re-seals them.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Why a key or a sealed value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("an encryption key is 32 bytes in base64 (make one with `doorstep keys generate`)")]
    BadKey,
    #[error("a sealed value is damaged, or sealed under a key that is not configured")]
    CannotOpen,
}

/// One master key and what derives from it.
#[derive(Clone)]
struct Key {
    id: String,
    cipher: Aes256Gcm,
    lookup: [u8; 32],
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

fn derive(master: &[u8], label: &str) -> [u8; 32] {
    match <HmacSha256 as Mac>::new_from_slice(master) {
        Ok(mut mac) => {
            mac.update(label.as_bytes());
            mac.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length, so this is never reached.
        Err(_) => Sha256::digest([master, label.as_bytes()].concat()).into(),
    }
}

impl Key {
    fn from_base64(text: &str) -> Result<Key, VaultError> {
        let master = B64.decode(text.trim()).map_err(|_| VaultError::BadKey)?;
        if master.len() != 32 {
            return Err(VaultError::BadKey);
        }
        let enc = derive(&master, "doorstep field encryption v1");
        let cipher = Aes256Gcm::new_from_slice(&enc).map_err(|_| VaultError::BadKey)?;
        let id = hex(&Sha256::digest(derive(&master, "doorstep key id v1"))[..4]);
        Ok(Key {
            id,
            cipher,
            lookup: derive(&master, "doorstep lookup v1"),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The keys: the current one seals; it and the previous ones open.
#[derive(Debug, Clone)]
pub struct Vault {
    current: Key,
    previous: Vec<Key>,
}

impl Vault {
    /// A vault from the current master key and any previous ones (base64).
    pub fn new(current: &str, previous: &[String]) -> Result<Vault, VaultError> {
        Ok(Vault {
            current: Key::from_base64(current)?,
            previous: previous
                .iter()
                .map(|k| Key::from_base64(k))
                .collect::<Result<_, _>>()?,
        })
    }

    /// A fresh master key, in base64.
    pub fn generate_key() -> String {
        use rand::RngCore;
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        B64.encode(k)
    }

    /// The current key's id (sealed values carry it).
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`.
    pub fn seal(&self, plain: &str) -> String {
        use rand::RngCore;
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = Nonce::try_from(&nonce[..])
            .ok()
            .and_then(|n| self.current.cipher.encrypt(&n, plain.as_bytes()).ok())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("v1:{}:{}", self.current.id, B64.encode(out))
    }

    /// The plain value of a sealed one.
    pub fn open(&self, sealed: &str) -> Result<String, VaultError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(VaultError::CannotOpen);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or(VaultError::CannotOpen)?;
        let bytes = B64.decode(body).map_err(|_| VaultError::CannotOpen)?;
        if bytes.len() < 12 + 16 {
            return Err(VaultError::CannotOpen);
        }
        let nonce = Nonce::try_from(&bytes[..12]).map_err(|_| VaultError::CannotOpen)?;
        let plain = key
            .cipher
            .decrypt(&nonce, &bytes[12..])
            .map_err(|_| VaultError::CannotOpen)?;
        String::from_utf8(plain).map_err(|_| VaultError::CannotOpen)
    }

    /// Whether a sealed value is under an older key (and so due for re-sealing).
    pub fn is_stale(&self, sealed: &str) -> bool {
        sealed.split(':').nth(1) != Some(self.current.id.as_str())
    }

    /// The lookup hash of a value (exact search without decrypting), under the current
    /// key: `value` as given, so callers normalise first (upper-case ID numbers).
    pub fn lookup(&self, value: &str) -> String {
        let mut mac = match <HmacSha256 as Mac>::new_from_slice(&self.current.lookup) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const K2: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

    #[test]
    fn seals_open_and_rotate() {
        let v = Vault::new(K1, &[]).unwrap();
        let a = v.seal("11010519491231002X");
        let b = v.seal("11010519491231002X");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("1949"), "nothing of the value shows");
        assert_eq!(v.open(&a).unwrap(), "11010519491231002X");
        assert_eq!(v.lookup("13800138000"), v.lookup("13800138000"));
        assert_ne!(v.lookup("13800138000"), v.lookup("13800138001"));
        // Tampering is detected.
        let mut t = a.clone();
        t.pop();
        t.push(if a.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(v.open(&t), Err(VaultError::CannotOpen));
        // After a rotation, old values still open and are known to be stale.
        let rotated = Vault::new(K2, &[K1.to_string()]).unwrap();
        assert!(rotated.is_stale(&a));
        assert_eq!(rotated.open(&a).unwrap(), "11010519491231002X");
        assert!(!rotated.is_stale(&rotated.seal("x")));
        assert_ne!(rotated.lookup("13800138000"), v.lookup("13800138000"));
        // Without the old key, they do not.
        assert_eq!(
            Vault::new(K2, &[]).unwrap().open(&a),
            Err(VaultError::CannotOpen)
        );
        assert_eq!(Vault::new("short", &[]).err(), Some(VaultError::BadKey));
        assert!(Vault::new(&Vault::generate_key(), &[]).is_ok());
    }
}
