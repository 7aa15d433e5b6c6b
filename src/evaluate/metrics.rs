//! Agreement metrics between two labelings of the same quotes, with scikit-learn 1.9.1's exact definitions
//! and special cases (`sklearn.metrics.cluster`), and Krippendorff's alpha for nominal data.
//!
//! Every partition metric works on a [`Contingency`] table, which is a sum over quotes: tables of shards
//! add up ([`Contingency::merge`]), so the metrics of a corpus processed in pieces are the same.

use std::collections::BTreeMap;

/// Counts of quotes per (true class, predicted cluster).
///
/// Labels are any `u32`; only labels that occur get a row or a column (as `np.unique` in scikit-learn).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contingency {
    cells: BTreeMap<(u32, u32), u64>,
}

impl Contingency {
    /// The table of two labelings of the same quotes.
    ///
    /// # Panics
    /// If the labelings have different lengths (a programming error, not bad input).
    pub fn new(labels_true: &[u32], labels_pred: &[u32]) -> Contingency {
        assert_eq!(labels_true.len(), labels_pred.len(), "labelings of different lengths");
        let mut table = Contingency::default();
        let rows = labels_true.iter().max().map_or(0, |&m| m as usize + 1);
        let cols = labels_pred.iter().max().map_or(0, |&m| m as usize + 1);
        if rows.saturating_mul(cols) <= 1 << 16 {
            // Small label sets (themes, codes): count in a dense array, then keep the non-zero cells.
            let mut dense = vec![0u64; rows * cols];
            for (&t, &p) in labels_true.iter().zip(labels_pred) {
                dense[t as usize * cols + p as usize] += 1;
            }
            for (i, &n) in dense.iter().enumerate() {
                table.add((i / cols) as u32, (i % cols) as u32, n);
            }
        } else {
            for (&t, &p) in labels_true.iter().zip(labels_pred) {
                table.add(t, p, 1);
            }
        }
        table
    }

    /// Adds `count` quotes of class `t` in cluster `p`.
    pub fn add(&mut self, t: u32, p: u32, count: u64) {
        if count > 0 {
            *self.cells.entry((t, p)).or_insert(0) += count;
        }
    }

    /// Adds another table (of other quotes) to this one. Associative and commutative.
    pub fn merge(&mut self, other: &Contingency) {
        for (&(t, p), &n) in &other.cells {
            self.add(t, p, n);
        }
    }

    /// Number of quotes.
    pub fn n(&self) -> u64 {
        self.cells.values().sum()
    }

    /// Quotes per true class, in label order.
    pub fn row_sums(&self) -> Vec<u64> {
        sums(self.cells.iter().map(|(&(t, _), &n)| (t, n)))
    }

    /// Quotes per predicted cluster, in label order.
    pub fn col_sums(&self) -> Vec<u64> {
        sums(self.cells.iter().map(|(&(_, p), &n)| (p, n)))
    }

    /// The non-zero cells, in (class, cluster) order.
    pub fn cells(&self) -> impl Iterator<Item = u64> + '_ {
        self.cells.values().copied()
    }

    /// The largest cell of each class (row) or of each cluster (column).
    fn maxima(&self, by_row: bool) -> Vec<u64> {
        let mut max: BTreeMap<u32, u64> = BTreeMap::new();
        for (&(t, p), &n) in &self.cells {
            let m = max.entry(if by_row { t } else { p }).or_insert(0);
            *m = (*m).max(n);
        }
        max.into_values().collect()
    }
}

fn sums(entries: impl Iterator<Item = (u32, u64)>) -> Vec<u64> {
    let mut sums: BTreeMap<u32, u64> = BTreeMap::new();
    for (label, n) in entries {
        *sums.entry(label).or_insert(0) += n;
    }
    sums.into_values().collect()
}

/// Adjusted Rand index (`adjusted_rand_score`): pair-counting agreement, 0 for chance, 1 for identical.
pub fn adjusted_rand_index(table: &Contingency) -> f64 {
    let n = table.n() as i128;
    let sq = |v: &[u64]| v.iter().map(|&x| (x as i128) * (x as i128)).sum::<i128>();
    let sum_squares: i128 = table.cells().map(|x| (x as i128) * (x as i128)).sum();
    // scikit-learn's pair_confusion_matrix: ordered pairs of distinct quotes.
    let tp = sum_squares - n;
    let fp = sq(&table.col_sums()) - sum_squares;
    let fn_ = sq(&table.row_sums()) - sum_squares;
    let tn = n * n - fp - fn_ - sum_squares;
    if fn_ == 0 && fp == 0 {
        return 1.0;
    }
    let numerator = 2 * (tp * tn - fn_ * fp);
    let denominator = (tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn);
    numerator as f64 / denominator as f64
}

/// Entropy (natural log) of a labeling given its class sizes; 0 for one class, 1 for no quotes (as
/// scikit-learn's `entropy`).
pub fn entropy(sizes: &[u64]) -> f64 {
    let sizes: Vec<f64> = sizes.iter().filter(|&&s| s > 0).map(|&s| s as f64).collect();
    if sizes.is_empty() {
        return 1.0;
    }
    if sizes.len() == 1 {
        return 0.0;
    }
    let total: f64 = sizes.iter().sum();
    -sizes.iter().map(|&s| (s / total) * (s.ln() - total.ln())).sum::<f64>()
}

/// Mutual information in nats (`mutual_info_score`).
pub fn mutual_information(table: &Contingency) -> f64 {
    let rows = table.row_sums();
    let cols = table.col_sums();
    if rows.len() == 1 || cols.len() == 1 {
        return 0.0;
    }
    let total = table.n() as f64;
    let row_index = label_index(table, true);
    let col_index = label_index(table, false);
    let mut mi = 0.0;
    for (&(t, p), &n) in &table.cells {
        let n = n as f64;
        let p_joint = n / total;
        let outer = (rows[row_index[&t]] as f64) * (cols[col_index[&p]] as f64);
        let log_outer = -outer.ln() + total.ln() + total.ln();
        let term = p_joint * (n.ln() - total.ln()) + p_joint * log_outer;
        // scikit-learn zeroes terms below machine epsilon before summing.
        mi += if term.abs() < f64::EPSILON { 0.0 } else { term };
    }
    mi.max(0.0)
}

fn label_index(table: &Contingency, rows: bool) -> BTreeMap<u32, usize> {
    let mut labels: Vec<u32> = table.cells.keys().map(|&(t, p)| if rows { t } else { p }).collect();
    labels.sort_unstable();
    labels.dedup();
    labels.into_iter().enumerate().map(|(i, l)| (l, i)).collect()
}

/// True when both labelings put every quote in one class, or there are no quotes: scikit-learn's
/// "perfect match" special case of NMI and AMI.
fn both_trivial(table: &Contingency) -> bool {
    let (r, c) = (table.row_sums().len(), table.col_sums().len());
    (r == 1 && c == 1) || (r == 0 && c == 0)
}

/// Normalised mutual information with the arithmetic mean of the entropies (`normalized_mutual_info_score`).
pub fn normalized_mutual_information(table: &Contingency) -> f64 {
    if both_trivial(table) {
        return 1.0;
    }
    let mi = mutual_information(table);
    if mi == 0.0 {
        return 0.0;
    }
    let normalizer = 0.5 * (entropy(&table.row_sums()) + entropy(&table.col_sums()));
    mi / normalizer
}

/// Expected mutual information of two random labelings with these class sizes (the hypergeometric
/// model of Vinh, Epps and Bailey 2010), as scikit-learn's `expected_mutual_information`.
pub fn expected_mutual_information(table: &Contingency) -> f64 {
    let a = table.row_sums();
    let b = table.col_sums();
    if a.len() == 1 || b.len() == 1 {
        return 0.0;
    }
    let n = table.n();
    let nf = n as f64;
    let lgamma = |x: f64| libm::lgamma(x);
    let gln_n = lgamma(nf + 1.0);
    let mut emi = 0.0;
    for &ai in &a {
        for &bj in &b {
            let start = 1.max((ai + bj).saturating_sub(n));
            let end = ai.min(bj);
            let (af, bf) = (ai as f64, bj as f64);
            let gln_fixed = lgamma(af + 1.0) + lgamma(bf + 1.0) + lgamma(nf - af + 1.0) + lgamma(nf - bf + 1.0);
            for nij in start..=end {
                let x = nij as f64;
                let term1 = x / nf;
                let term2 = (nf.ln() + x.ln()) - af.ln() - bf.ln();
                let gln = gln_fixed
                    - (lgamma(x + 1.0) + gln_n)
                    - lgamma(af - x + 1.0)
                    - lgamma(bf - x + 1.0)
                    - lgamma(nf - af - bf + x + 1.0);
                emi += term1 * term2 * gln.exp();
            }
        }
    }
    emi
}

/// Adjusted mutual information, arithmetic mean (`adjusted_mutual_info_score`): 0 for chance, 1 for
/// identical.
pub fn adjusted_mutual_information(table: &Contingency) -> f64 {
    if both_trivial(table) {
        return 1.0;
    }
    if table.row_sums().len() == 1 || table.col_sums().len() == 1 {
        return 0.0;
    }
    let mi = mutual_information(table);
    let emi = expected_mutual_information(table);
    let normalizer = 0.5 * (entropy(&table.row_sums()) + entropy(&table.col_sums()));
    // scikit-learn keeps numerator and denominator at least machine epsilon away from zero, keeping their
    // signs, so that a perfect match whose expectation equals its maximum scores 1, not 0/0.
    let away_from_zero = |x: f64| if x < 0.0 { x.min(-f64::EPSILON) } else { x.max(f64::EPSILON) };
    away_from_zero(mi - emi) / away_from_zero(normalizer - emi)
}

/// Homogeneity, completeness and V-measure with beta 1 (`homogeneity_completeness_v_measure`).
pub fn homogeneity_completeness_v_measure(table: &Contingency) -> (f64, f64, f64) {
    if table.n() == 0 {
        return (1.0, 1.0, 1.0);
    }
    let h_true = entropy(&table.row_sums());
    let h_pred = entropy(&table.col_sums());
    let mi = mutual_information(table);
    let homogeneity = if h_true != 0.0 { mi / h_true } else { 1.0 };
    let completeness = if h_pred != 0.0 { mi / h_pred } else { 1.0 };
    let v = if homogeneity + completeness == 0.0 {
        0.0
    } else {
        2.0 * homogeneity * completeness / (homogeneity + completeness)
    };
    (homogeneity, completeness, v)
}

/// Fowlkes-Mallows index (`fowlkes_mallows_score`): geometric mean of pairwise precision and recall.
pub fn fowlkes_mallows(table: &Contingency) -> f64 {
    let n = table.n() as i128;
    let sq = |v: &[u64]| v.iter().map(|&x| (x as i128) * (x as i128)).sum::<i128>();
    let tk: i128 = table.cells().map(|x| (x as i128) * (x as i128)).sum::<i128>() - n;
    let pk = sq(&table.col_sums()) - n;
    let qk = sq(&table.row_sums()) - n;
    if tk == 0 {
        return 0.0;
    }
    (tk as f64 / pk as f64).sqrt() * (tk as f64 / qk as f64).sqrt()
}

/// Purity: the share of quotes in their cluster's most common class. Inverse purity: the share of quotes
/// in their class's most common cluster. Both 0 for no quotes.
pub fn purity_and_inverse(table: &Contingency) -> (f64, f64) {
    let n = table.n();
    if n == 0 {
        return (0.0, 0.0);
    }
    let purity = table.maxima(false).iter().sum::<u64>() as f64 / n as f64;
    let inverse = table.maxima(true).iter().sum::<u64>() as f64 / n as f64;
    (purity, inverse)
}

/// Cohen's kappa of two yes/no ratings of the same quotes, from their 2x2 table, as scikit-learn's
/// `cohen_kappa_score`: `1 - observed disagreement / disagreement expected by chance`. `None` when chance
/// disagreement is zero (both raters say the same thing of every quote), where kappa is undefined.
pub fn cohen_kappa(both: u64, first_only: u64, second_only: u64, neither: u64) -> Option<f64> {
    let n = (both + first_only + second_only + neither) as f64;
    let first_yes = (both + first_only) as f64;
    let second_yes = (both + second_only) as f64;
    let (first_no, second_no) = (n - first_yes, n - second_yes);
    let expected_disagreement = (first_yes * second_no + first_no * second_yes) / n;
    if n == 0.0 || expected_disagreement == 0.0 {
        return None;
    }
    Some(1.0 - (first_only + second_only) as f64 / expected_disagreement)
}

/// Krippendorff's alpha for nominal data: `1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k`, where
/// `o` is the coincidence matrix of values within units and `n_c` its margins (Krippendorff 2011,
/// "Computing Krippendorff's alpha-reliability").
///
/// `ratings[coder][unit]` is a category or `None` (missing); units with fewer than two values are not
/// pairable and drop out. `None` when there is nothing to compare or only one category is used.
pub fn krippendorff_alpha_nominal(ratings: &[Vec<Option<u32>>]) -> Option<f64> {
    let n_units = ratings.iter().map(Vec::len).max().unwrap_or(0);
    let mut coincidence: BTreeMap<(u32, u32), f64> = BTreeMap::new();
    for unit in 0..n_units {
        let values: Vec<u32> = ratings.iter().filter_map(|coder| coder.get(unit).copied().flatten()).collect();
        let m = values.len();
        if m < 2 {
            continue;
        }
        let weight = 1.0 / (m - 1) as f64;
        for (i, &c) in values.iter().enumerate() {
            for (j, &k) in values.iter().enumerate() {
                if i != j {
                    *coincidence.entry((c, k)).or_insert(0.0) += weight;
                }
            }
        }
    }
    let mut margins: BTreeMap<u32, f64> = BTreeMap::new();
    for (&(c, _), &o) in &coincidence {
        *margins.entry(c).or_insert(0.0) += o;
    }
    let n: f64 = margins.values().sum();
    let observed: f64 = coincidence.iter().filter(|((c, k), _)| c != k).map(|(_, &o)| o).sum();
    let total: f64 = margins.values().sum::<f64>();
    let expected: f64 = total * total - margins.values().map(|&m| m * m).sum::<f64>();
    if n < 2.0 || expected == 0.0 {
        return None;
    }
    Some(1.0 - (n - 1.0) * observed / expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 5e-7, "{a} != {b}");
    }

    /// The fixture of `SKLEARN_PARITY.md` (values from scikit-learn 1.9.1, rounded to 6 places there).
    #[test]
    fn parity_fixture() {
        let table = Contingency::new(&[0, 0, 1, 1, 2, 2], &[1, 1, 0, 0, 0, 2]);
        close(adjusted_rand_index(&table), 0.444444);
        close(normalized_mutual_information(&table), 0.739667);
        close(adjusted_mutual_information(&table), 0.502361);
        close(homogeneity_completeness_v_measure(&table).2, 0.739667);
        close(fowlkes_mallows(&table), 0.577350);
    }

    #[test]
    fn kappa_fixture() {
        // [0,0,1,1,1,0] vs [0,1,1,1,0,0]: both 1 twice, first only once, second only once, neither twice.
        close(cohen_kappa(2, 1, 1, 2).unwrap(), 0.333333);
        assert_eq!(cohen_kappa(3, 0, 0, 0), None);
    }

    #[test]
    fn special_cases_follow_sklearn() {
        let one = Contingency::new(&[5, 5, 5], &[7, 7, 7]);
        assert_eq!(normalized_mutual_information(&one), 1.0);
        assert_eq!(adjusted_mutual_information(&one), 1.0);
        assert_eq!(adjusted_rand_index(&one), 1.0);
        let split = Contingency::new(&[0, 0, 0, 0], &[0, 1, 2, 3]);
        assert_eq!(normalized_mutual_information(&split), 0.0);
        assert_eq!(homogeneity_completeness_v_measure(&split), (1.0, 0.0, 0.0));
        assert_eq!(fowlkes_mallows(&split), 0.0);
        let empty = Contingency::default();
        assert_eq!(adjusted_rand_index(&empty), 1.0);
        assert_eq!(homogeneity_completeness_v_measure(&empty), (1.0, 1.0, 1.0));
    }

    #[test]
    fn identical_labelings_score_one_whatever_the_names() {
        let table = Contingency::new(&[0, 0, 1, 1, 2], &[9, 9, 4, 4, 1]);
        for value in [
            adjusted_rand_index(&table),
            normalized_mutual_information(&table),
            adjusted_mutual_information(&table),
            fowlkes_mallows(&table),
            purity_and_inverse(&table).0,
            purity_and_inverse(&table).1,
        ] {
            close(value, 1.0);
        }
    }

    #[test]
    fn purity_by_hand() {
        // Clusters: {a,a,b}, {b,c}: purity (2 + 1) / 5; classes a:{0,0} b:{0,1} c:{1}: inverse (2 + 1 + 1) / 5.
        let table = Contingency::new(&[0, 0, 1, 1, 2], &[0, 0, 0, 1, 1]);
        assert_eq!(purity_and_inverse(&table), (0.6, 0.8));
    }

    #[test]
    fn merged_tables_equal_the_whole() {
        let t = [0, 1, 1, 2, 0, 2, 2, 1];
        let p = [3, 3, 1, 1, 3, 0, 0, 1];
        let mut left = Contingency::new(&t[..3], &p[..3]);
        let right = Contingency::new(&t[3..], &p[3..]);
        left.merge(&right);
        assert_eq!(left, Contingency::new(&t, &p));
    }

    #[test]
    fn krippendorff_by_hand() {
        // Two coders, four units: agree on three, disagree on one. Values 1,1,2,2,3,3 and 1,2: coincidences
        // o_11 = 2, o_22 = 2, o_33 = 0... computed from the definition: n = 8, observed disagreement
        // o_12 + o_21 = 2, margins 1: 3, 2: 3, 3: 2, sum_{c != k} n_c n_k = 64 - (9 + 9 + 4) = 42.
        let ratings = vec![vec![Some(1), Some(2), Some(3), Some(1)], vec![Some(1), Some(2), Some(3), Some(2)]];
        close(krippendorff_alpha_nominal(&ratings).unwrap(), 1.0 - 7.0 * 2.0 / 42.0);
        // A missing value makes its unit unpairable.
        let missing = vec![vec![Some(1), None, Some(2)], vec![Some(1), Some(3), Some(2)]];
        assert_eq!(krippendorff_alpha_nominal(&missing), Some(1.0));
        assert_eq!(krippendorff_alpha_nominal(&[vec![Some(1), None], vec![None, Some(1)]]), None);
        let perfect = vec![vec![Some(1), Some(2)], vec![Some(1), Some(2)]];
        assert_eq!(krippendorff_alpha_nominal(&perfect), Some(1.0));
    }
}
