//! [`StrList`]: many short strings end to end in one buffer.

use std::ops::Range;

/// Strings end to end in one buffer, with where each ends: for the millions of ids or texts of a large
/// corpus, two allocations in all instead of one per string (a `String` costs 24 bytes of header plus
/// its heap block and the allocator's overhead, often more than an id itself).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StrList {
    text: String,
    ends: Vec<usize>,
}

impl StrList {
    /// Appends a string.
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the list holds no string.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The string at `index`.
    pub fn get(&self, index: usize) -> &str {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.text[start..self.ends[index]]
    }

    /// The strings at `range`, in order.
    pub fn range(&self, range: Range<usize>) -> impl Iterator<Item = &str> {
        range.map(|i| self.get(i))
    }

    /// Bytes of text held, all strings together.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }
    /// Removes every string, keeping the allocations.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Every string, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.range(0..self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_come_back_as_pushed() {
        let mut list = StrList::default();
        assert!(list.is_empty());
        for s in ["q1", "", "naïve", "q1"] {
            list.push(s);
        }
        assert_eq!(list.len(), 4);
        assert_eq!(list.iter().collect::<Vec<_>>(), ["q1", "", "naïve", "q1"]);
        assert_eq!(list.range(1..3).collect::<Vec<_>>(), ["", "naïve"]);
        assert_eq!(list.get(3), "q1");
    }
}
