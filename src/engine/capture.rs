//! What a container wrote, kept whole up to a bound: past it, the beginning and the end are
//! kept and a line in between says how many bytes were cut there, so a log never silently
//! loses its middle and memory stays bounded whatever a test prints.

/// The bytes kept from the beginning of an output that is cut.
pub const HEAD: usize = 64 * 1024;
/// The bytes kept from the end of an output that is cut.
pub const TAIL: usize = 1024 * 1024;

/// An output being captured.
#[derive(Debug, Default)]
pub struct Capture {
    head: Vec<u8>,
    /// The last bytes past `head`: a buffer of at most `2 * TAIL`, trimmed to `TAIL` when full.
    tail: Vec<u8>,
    /// Bytes dropped from the front of `tail`.
    cut: u64,
}

impl Capture {
    pub fn push(&mut self, mut bytes: &[u8]) {
        if self.head.len() < HEAD {
            let room = (HEAD - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..room]);
            bytes = &bytes[room..];
        }
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * TAIL {
            let drop = self.tail.len() - TAIL;
            self.tail.drain(..drop);
            self.cut += drop as u64;
        }
    }

    /// The output as text (invalid UTF-8 replaced), with the cut marked where there was one.
    pub fn finish(mut self) -> String {
        if self.tail.len() > TAIL {
            let drop = self.tail.len() - TAIL;
            self.tail.drain(..drop);
            self.cut += drop as u64;
        }
        if self.cut == 0 {
            self.head.append(&mut self.tail);
            return String::from_utf8_lossy(&self.head).into_owned();
        }
        // Whole lines on both sides of the marker.
        let head_end = self
            .head
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let tail_start = self
            .tail
            .iter()
            .position(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let cut = self.cut + (self.head.len() - head_end + tail_start) as u64;
        format!(
            "{}[hier: {cut} bytes of output cut here; the first {} and the last {} are kept]\n{}",
            String::from_utf8_lossy(&self.head[..head_end]),
            head_end,
            self.tail.len() - tail_start,
            String::from_utf8_lossy(&self.tail[tail_start..]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole() {
        let mut c = Capture::default();
        c.push(b"one\n");
        c.push(b"two");
        assert_eq!(c.finish(), "one\ntwo");
    }

    #[test]
    fn long_output_keeps_its_ends_and_says_what_was_cut() {
        let lines: Vec<String> = (0..200_000).map(|i| format!("line {i:06}\n")).collect();
        let total: usize = lines.iter().map(String::len).sum();
        let mut c = Capture::default();
        for chunk in lines.chunks(7) {
            c.push(chunk.concat().as_bytes());
        }
        let out = c.finish();
        assert!(out.starts_with("line 000000\n"));
        assert!(out.ends_with("line 199999\n"));
        let marker = out.lines().find(|l| l.starts_with("[hier: ")).unwrap();
        let cut: usize = marker["[hier: ".len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let kept = out.len() - marker.len() - 1;
        assert_eq!(kept + cut, total, "every byte is kept or counted as cut");
        // Only whole lines on either side.
        assert!(out.lines().all(|l| l.starts_with("line ") || l == marker));
        assert!(out.len() <= HEAD + TAIL + marker.len() + 1);
    }
}
