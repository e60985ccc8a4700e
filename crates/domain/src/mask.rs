//! Masking of personal data (PIPL): shown masked by default everywhere.

/// `13812345678` → `138****5678`. Keeps the first three and last four digits of numbers
/// with at least eight digits; shorter ones keep only their last two.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    let (head, tail) = if n >= 8 { (3, 4) } else { (0, n.min(2)) };
    mask_middle(&chars, head, tail)
}

/// `110101199001011234` → `110***********1234`.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let n = chars.len();
    let (head, tail) = if n >= 10 { (3, 4) } else { (0, n.min(1)) };
    mask_middle(&chars, head, tail)
}

/// `张三丰` → `张**`: the family name stays, the given name is hidden.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    mask_middle(&chars, chars.len().min(1), 0)
}

/// `zhang.san@example.com` → `z*********@example.com`: the first character of the local
/// part and the domain stay. Text without `@` is masked like a name.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let chars: Vec<char> = local.chars().collect();
            format!("{}@{domain}", mask_middle(&chars, chars.len().min(1), 0))
        }
        None => mask_name(email),
    }
}

fn mask_middle(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i + tail >= n { *c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn masks_the_usual_shapes() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_id_number("110101199001011234"), "110***********1234");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_phone("110"), "*10");
        assert_eq!(mask_email("zhang.san@example.com"), "z********@example.com");
        assert_eq!(mask_email("@x"), "@x");
    }

    proptest! {
        #[test]
        fn masking_keeps_length_and_hides_the_middle(s in "[0-9]{0,24}") {
            for (masked, head, tail) in [
                (mask_phone(&s), if s.len() >= 8 { 3 } else { 0 }, if s.len() >= 8 { 4 } else { s.len().min(2) }),
                (mask_id_number(&s), if s.len() >= 10 { 3 } else { 0 }, if s.len() >= 10 { 4 } else { s.len().min(1) }),
            ] {
                prop_assert_eq!(masked.chars().count(), s.chars().count());
                let hidden = &masked[head..masked.len() - tail];
                prop_assert!(hidden.chars().all(|c| c == '*'));
                // At most 7 digits of the original ever show.
                prop_assert!(masked.chars().filter(|c| c.is_ascii_digit()).count() <= 7);
            }
        }

        #[test]
        fn emails_show_one_character_of_the_local_part(local in "[a-z0-9.]{1,20}", domain in "[a-z]{1,10}\\.cn") {
            let m = mask_email(&format!("{local}@{domain}"));
            let (l, d) = m.rsplit_once('@').unwrap();
            prop_assert_eq!(d, domain.as_str());
            prop_assert_eq!(l.chars().count(), local.chars().count());
            prop_assert!(l.chars().skip(1).all(|c| c == '*'));
        }

        #[test]
        fn names_show_at_most_one_character(s in "\\PC{0,12}") {
            let m = mask_name(&s);
            prop_assert_eq!(m.chars().count(), s.chars().count());
            prop_assert!(m.chars().skip(1).all(|c| c == '*'));
        }
    }
}
