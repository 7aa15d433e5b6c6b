//! The stage's one sparse kernel: a sparse row times a dense row-major matrix, used by LSA's products
//! (`f32`) and the refinement's scores (`f64`).

/// `row = sum of v * x[c]` over the row's non-zeros, for `x` a dense row-major matrix `width` wide (the
/// product of one sparse row with a dense matrix; `f32` for LSA, `f64` for the refinement's scores). With
/// AVX2 (checked at run time) the same loop runs twice as many lanes wide as SSE2's: separate multiplies
/// and adds, never fused, so the bits are the same on every x86-64 machine.
pub(crate) fn accumulate_rows<T: Lane>(row: &mut [T], cols: &[u32], values: &[T], x: &[T], width: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { accumulate_rows_avx2(row, cols, values, x, width) };
    }
    accumulate_rows_portable(row, cols, values, x, width)
}

/// The floating-point types of [`accumulate_rows`].
pub(crate) trait Lane:
    Copy + Default + std::ops::Mul<Output = Self> + std::ops::AddAssign + Send + Sync
{
}
impl Lane for f32 {}
impl Lane for f64 {}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn accumulate_rows_avx2<T: Lane>(row: &mut [T], cols: &[u32], values: &[T], x: &[T], width: usize) {
    accumulate_rows_portable(row, cols, values, x, width)
}

#[inline(always)]
fn accumulate_rows_portable<T: Lane>(row: &mut [T], cols: &[u32], values: &[T], x: &[T], width: usize) {
    if width == BLOCK {
        return accumulate_block(row, cols, values, x);
    }
    row.fill(T::default());
    for (&c, &v) in cols.iter().zip(values) {
        let source = &x[c as usize * width..(c as usize + 1) * width];
        row.iter_mut().zip(source).for_each(|(o, &s)| *o += v * s);
    }
}

/// The width of LSA's column blocks (see `lsa::ColumnBlocks`): 16 `f32` are one cache line, so each
/// non-zero reads exactly one line of the dense factor.
pub(crate) const BLOCK: usize = 16;

/// [`accumulate_rows_portable`] for rows [`BLOCK`] wide: the sums stay in registers, not in `row`. The
/// same operations in the same order, so the same bits.
#[inline(always)]
fn accumulate_block<T: Lane>(row: &mut [T], cols: &[u32], values: &[T], x: &[T]) {
    let mut sums = [T::default(); BLOCK];
    for (&c, &v) in cols.iter().zip(values) {
        let source: &[T; BLOCK] = x[c as usize * BLOCK..(c as usize + 1) * BLOCK].try_into().expect("one block row");
        for (sum, &s) in sums.iter_mut().zip(source) {
            *sum += v * s;
        }
    }
    row.copy_from_slice(&sums);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::rng::Rng;

    /// The run-time dispatched product (AVX2 on this machine when it has it) gives the same bits as the
    /// portable loop and as a plain loop over the non-zeros, for widths that are and are not multiples
    /// of the vector lanes, and for LSA's block width.
    #[test]
    fn dispatched_row_product_equals_portable_bits() {
        let mut rng = Rng::new(7, 1);
        let mut uniform = || (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
        for width in [1, 7, 8, 13, BLOCK, 110] {
            let x: Vec<f32> = (0..50 * width).map(|_| uniform()).collect();
            let cols: Vec<u32> = (0..50).step_by(3).collect();
            let values: Vec<f32> = cols.iter().map(|_| uniform()).collect();
            let (mut fast, mut portable) = (vec![1.0; width], vec![1.0; width]);
            accumulate_rows(&mut fast, &cols, &values, &x, width);
            accumulate_rows_portable(&mut portable, &cols, &values, &x, width);
            let mut plain = vec![0.0f32; width];
            for (&c, &v) in cols.iter().zip(&values) {
                for (j, p) in plain.iter_mut().enumerate() {
                    *p += v * x[c as usize * width + j];
                }
            }
            let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&portable), "width {width}");
            assert_eq!(bits(&fast), bits(&plain), "width {width}");
            assert!(fast.iter().any(|&v| v != 0.0 && v != 1.0), "a real product");
        }
    }
}
