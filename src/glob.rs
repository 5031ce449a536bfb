//! The globs of settings and rule parameters: `*` (any run, `/` included) and
//! `?` (one character), on a whole string. Matched with the two-pointer
//! algorithm (backtracking only to the last `*`), so no pattern costs more
//! than the product of the two lengths.

/// Whether `pattern` matches all of `text`.
pub fn matches(pattern: &str, text: &str) -> bool {
    matches_by(pattern, text, |a, b| a == b)
}

/// The same, ASCII letters compared without case (addresses).
pub fn matches_ignore_case(pattern: &str, text: &str) -> bool {
    matches_by(pattern, text, |a, b| a.eq_ignore_ascii_case(&b))
}

fn matches_by(pattern: &str, text: &str, eq: impl Fn(u8, u8) -> bool) -> bool {
    let (p, s) = (pattern.as_bytes(), text.as_bytes());
    let (mut i, mut j) = (0, 0);
    // where the last `*` was, and the text position it has taken up to
    let mut star: Option<(usize, usize)> = None;
    while j < s.len() {
        match p.get(i) {
            Some(b'*') => {
                star = Some((i, j));
                i += 1;
            }
            Some(&c) if c == b'?' || eq(c, s[j]) => {
                i += 1;
                j += 1;
            }
            _ => match star {
                // let the last `*` take one more character
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("xen/arch/*", "xen/arch/x86/xen.lds.S"));
        assert!(matches("*.lds.S", "xen/arch/x86/xen.lds.S"));
        assert!(matches("a?c", "abc") && !matches("a?c", "ac"));
        assert!(matches("*", "") && matches("", "") && !matches("", "x"));
        assert!(!matches("*.c", "a.h") && !matches("ab", "abc"));
        assert!(matches("*a*b", "xaxxb") && !matches("*a*b", "xaxxbx"));
        assert!(matches_ignore_case(
            "*[bot]@users.noreply.github.com",
            "Dependabot[BOT]@users.noreply.github.com"
        ));
        assert!(!matches("LKP@intel.com", "lkp@intel.com"));
        // a hostile pattern stays cheap
        let p = "*a".repeat(200);
        assert!(!matches(&p, &"a".repeat(150)));
    }
}
