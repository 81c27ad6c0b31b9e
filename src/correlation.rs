//! Correlation matrices: from rank correlations to a Gaussian copula, checked and repaired.
//!
//! Users state **rank (Spearman) correlations** between risks, because those are what survive
//! any monotone transformation of an impact (a share, a cap, a PERT). A Gaussian copula with
//! Pearson correlation `r` between its latent normals has Spearman correlation
//! `(6 / pi) asin(r / 2)`, so the latent matrix is `r = 2 sin(pi rho_s / 6)` element by element.
//!
//! A matrix assembled from pairwise judgements is often not positive definite. [`nearest`]
//! finds the nearest correlation matrix in the Frobenius norm by Higham's alternating
//! projections with Dykstra's correction (Higham, "Computing the nearest correlation matrix",
//! IMA J. Numer. Anal. 22, 2002), then nudges the smallest eigenvalues up to [`MIN_EIGENVALUE`]
//! so that the Cholesky factor exists.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::correlation::{cholesky, nearest};
//! // Three risks that cannot all be this strongly (anti-)correlated.
//! let m = vec![1.0, 0.9, 0.9, 0.9, 1.0, -0.9, 0.9, -0.9, 1.0];
//! assert!(cholesky(&m, 3).is_none());
//! let fixed = nearest(&m, 3);
//! assert!(cholesky(&fixed, 3).is_some());
//! assert!((fixed[0] - 1.0).abs() < 1e-12);
//! ```

use nalgebra::{DMatrix, SymmetricEigen};

/// The smallest eigenvalue a repaired matrix keeps, so its Cholesky factor is well conditioned.
pub const MIN_EIGENVALUE: f64 = 1e-8;
const MAX_ITERATIONS: usize = 1000;
const TOLERANCE: f64 = 1e-12;

/// The latent-normal (Pearson) correlation whose Gaussian copula has Spearman correlation `rho_s`.
pub fn pearson_from_spearman(rho_s: f64) -> f64 {
    2.0 * (std::f64::consts::PI * rho_s / 6.0).sin()
}

/// The Spearman correlation of a Gaussian copula with latent Pearson correlation `r`.
pub fn spearman_from_pearson(r: f64) -> f64 {
    6.0 / std::f64::consts::PI * (r / 2.0).asin()
}

/// The lower Cholesky factor of the `n x n` row-major matrix `m`, row-major, or `None` when
/// `m` is not (numerically) positive definite.
pub fn cholesky(m: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = m[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if s <= 1e-14 || !s.is_finite() {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// How far below zero the smallest eigenvalue of a valid (positive semi-definite) correlation
/// matrix may fall through rounding.
pub const PSD_TOLERANCE: f64 = 1e-10;

/// The smallest eigenvalue of the symmetric `n x n` row-major `m`.
pub fn min_eigenvalue(m: &[f64], n: usize) -> f64 {
    let a = DMatrix::from_row_slice(n, n, m);
    SymmetricEigen::new(a)
        .eigenvalues
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
}

/// A valid but singular correlation matrix made strictly positive definite for its Cholesky
/// factor: eigenvalues raised to [`MIN_EIGENVALUE`], the unit diagonal restored (every entry
/// moves by about 1e-8 at most).
pub fn regularise(m: &[f64], n: usize) -> Vec<f64> {
    let z = clip_eigenvalues(&DMatrix::from_row_slice(n, n, m), MIN_EIGENVALUE);
    let d: Vec<f64> = (0..n).map(|i| z[(i, i)].sqrt()).collect();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = if i == j {
                1.0
            } else {
                z[(i, j)] / (d[i] * d[j])
            };
        }
    }
    out
}

fn clip_eigenvalues(m: &DMatrix<f64>, floor: f64) -> DMatrix<f64> {
    let eig = SymmetricEigen::new(m.clone());
    let vals = eig.eigenvalues.map(|v| v.max(floor));
    let q = eig.eigenvectors;
    &q * DMatrix::from_diagonal(&vals) * q.transpose()
}

/// The nearest correlation matrix to the symmetric `n x n` row-major `m`, with every
/// eigenvalue at least [`MIN_EIGENVALUE`] (after rescaling to a unit diagonal).
pub fn nearest(m: &[f64], n: usize) -> Vec<f64> {
    let a = DMatrix::from_row_slice(n, n, m);
    let mut y = a.clone();
    let mut ds = DMatrix::zeros(n, n);
    for _ in 0..MAX_ITERATIONS {
        let r = &y - &ds;
        let x = clip_eigenvalues(&r, 0.0);
        ds = &x - &r;
        let mut y_next = x.clone();
        for i in 0..n {
            y_next[(i, i)] = 1.0;
        }
        let change = (&y_next - &y).norm() / y.norm().max(1.0);
        y = y_next;
        if change < TOLERANCE {
            break;
        }
    }
    // Make it strictly positive definite, then restore the unit diagonal.
    let flat: Vec<f64> = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| y[(i, j)])
        .collect();
    regularise(&flat, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_pearson_round_trip() {
        for rho in [-1.0, -0.5, 0.0, 0.3, 0.8, 1.0] {
            let r = pearson_from_spearman(rho);
            assert!((spearman_from_pearson(r) - rho).abs() < 1e-12);
            assert!(r.abs() <= 1.0 + 1e-15);
        }
    }

    #[test]
    fn valid_matrix_is_left_alone() {
        let m = vec![1.0, 0.5, 0.5, 1.0];
        let n = nearest(&m, 2);
        for (a, b) in m.iter().zip(&n) {
            assert!((a - b).abs() < 1e-7);
        }
    }

    #[test]
    fn higham_example() {
        // Higham (2002), section 4: the nearest correlation matrix to
        // [[1 1 0] [1 1 1] [0 1 1]] has off-diagonals 0.7607 and 0.1573.
        let m = vec![1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        let x = nearest(&m, 3);
        assert!((x[1] - 0.7607).abs() < 1e-4, "{x:?}");
        assert!((x[2] - 0.1573).abs() < 1e-4, "{x:?}");
        assert!(cholesky(&x, 3).is_some());
    }
}
