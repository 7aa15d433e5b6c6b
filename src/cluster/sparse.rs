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
    row.fill(T::default());
    for (&c, &v) in cols.iter().zip(values) {
        let source = &x[c as usize * width..(c as usize + 1) * width];
        row.iter_mut().zip(source).for_each(|(o, &s)| *o += v * s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::rng::Rng;

    /// The run-time dispatched product (AVX2 on this machine when it has it) gives the same bits as the
    /// portable loop, for widths that are and are not multiples of the vector lanes.
    #[test]
    fn dispatched_row_product_equals_portable_bits() {
        let mut rng = Rng::new(7, 1);
        let mut uniform = || (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
        for width in [1, 7, 8, 13, 110] {
            let x: Vec<f32> = (0..50 * width).map(|_| uniform()).collect();
            let cols: Vec<u32> = (0..50).step_by(3).collect();
            let values: Vec<f32> = cols.iter().map(|_| uniform()).collect();
            let (mut fast, mut portable) = (vec![1.0; width], vec![1.0; width]);
            accumulate_rows(&mut fast, &cols, &values, &x, width);
            accumulate_rows_portable(&mut portable, &cols, &values, &x, width);
            assert_eq!(
                fast.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                portable.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            assert!(fast.iter().any(|&v| v != 0.0 && v != 1.0), "a real product");
        }
    }
}
