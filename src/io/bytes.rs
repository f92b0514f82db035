//! A cursor over the bytes of one of our compact binary formats (the template
//! library, the full-atom statistics): every read names what it was reading,
//! so a truncated or damaged file gives an error that says where, never a panic.

/// Reads forward through `b`; `pos` is the next unread byte.
pub struct ByteReader<'a> {
    pub b: &'a [u8],
    pub pos: usize,
}

impl<'a> ByteReader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        ByteReader { b, pos: 0 }
    }

    /// The next `n` bytes; `what` names them in the error.
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| {
                format!(
                    "truncated: {what} needs {n} bytes at byte {} of {}",
                    self.pos,
                    self.b.len()
                )
            })?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// A little-endian u32.
    pub fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4, what)?.try_into().expect("4 bytes"),
        ))
    }

    /// An error when bytes are left over after the last field.
    pub fn finish(&self) -> Result<(), String> {
        if self.pos == self.b.len() {
            Ok(())
        } else {
            Err(format!("{} trailing bytes", self.b.len() - self.pos))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_name_what_was_missing() {
        let mut r = ByteReader::new(&[1, 0, 0, 0, 9]);
        assert_eq!(r.u32("count").unwrap(), 1);
        assert!(r.finish().unwrap_err().contains("1 trailing"));
        let e = r.u32("length").unwrap_err();
        assert!(e.contains("length") && e.contains("byte 4 of 5"), "{e}");
    }
}
