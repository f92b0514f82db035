//! The statistics of the benchmark table: means, Pearson correlation and the
//! paired two-tailed Student's t-test the paper uses for its P values (Table 1:
//! "two-tailed Student's t-tests between the TM scores produced" by two
//! methods on the same targets).
//!
//! The t distribution's tail comes from the regularised incomplete beta
//! function, P(|T| > t) = I_{ν/(ν+t²)}(ν/2, 1/2), evaluated by its continued
//! fraction (modified Lentz), with ln Γ from the Lanczos approximation
//! (g = 7, n = 9), good to about 1e-15 relative.

/// Mean of a sample (`None` when empty).
pub fn mean(x: &[f64]) -> Option<f64> {
    (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64)
}

/// Pearson correlation of paired values (`None` with fewer than 3 pairs or a
/// constant side).
pub fn pearson(xy: &[(f64, f64)]) -> Option<f64> {
    if xy.len() < 3 {
        return None;
    }
    let n = xy.len() as f64;
    let mx = xy.iter().map(|p| p.0).sum::<f64>() / n;
    let my = xy.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = xy.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let syy: f64 = xy.iter().map(|p| (p.1 - my).powi(2)).sum();
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// A paired t-test's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// Mean of the differences a − b.
    pub mean_difference: f64,
    pub t: f64,
    pub df: usize,
    /// Two-tailed P value.
    pub p: f64,
}

/// Paired two-tailed t-test of `a` against `b` (same targets, same order).
/// `None` with fewer than two pairs. Identical samples give t = 0, P = 1;
/// constant non-zero differences give P = 0.
pub fn paired_t_test(a: &[f64], b: &[f64]) -> Option<TTest> {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    if d.len() < 2 {
        return None;
    }
    let n = d.len() as f64;
    let m = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let df = d.len() - 1;
    let se = (var / n).sqrt();
    let (t, p) = if se > 0.0 {
        let t = m / se;
        (t, student_t_two_tailed(t, df as f64))
    } else if m == 0.0 {
        (0.0, 1.0)
    } else {
        (m.signum() * f64::INFINITY, 0.0)
    };
    Some(TTest {
        mean_difference: m,
        t,
        df,
        p,
    })
}

/// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom.
pub fn student_t_two_tailed(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return if t.is_nan() { f64::NAN } else { 0.0 };
    }
    incomplete_beta(df / (df + t * t), df / 2.0, 0.5).clamp(0.0, 1.0)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the series in its accurate range.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (k, g) in G.iter().enumerate().skip(1) {
        a += g / (x + k as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta function I_x(a, b).
pub fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The continued fraction converges fast for x < (a+1)/(a+b+2); use the
    // symmetry I_x(a,b) = 1 − I_{1−x}(b,a) on the other side.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_tail_matches_printed_critical_values() {
        // Two-tailed critical values from standard t tables.
        for (t, df, p) in [
            (12.706, 1.0, 0.05),
            (2.228, 10.0, 0.05),
            (4.032, 5.0, 0.01),
            (1.960, 1e6, 0.05),
            (3.291, 1e6, 0.001),
        ] {
            let got = student_t_two_tailed(t, df);
            // The tables print t to 3 decimals: 0.5 % in P covers that.
            assert!((got - p).abs() < 5e-3 * p, "t {t} df {df}: {got} vs {p}");
        }
        assert_eq!(student_t_two_tailed(0.0, 7.0), 1.0);
        assert!((incomplete_beta(0.3, 1.0, 1.0) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn paired_test_reproduces_students_sleep_data() {
        // Cushny & Peebles' sleep data (Student 1908): extra hours of sleep
        // with two drugs on the same ten patients. R's
        // t.test(extra ~ group, data = sleep, paired = TRUE) prints
        // t = -4.0621, df = 9, p-value = 0.002833.
        let drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
        let drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
        let r = paired_t_test(&drug1, &drug2).unwrap();
        assert_eq!(r.df, 9);
        assert!((r.t + 4.0621).abs() < 1e-4, "{r:?}");
        assert!((r.p - 0.002833).abs() < 1e-6, "{r:?}");
        assert!((r.mean_difference + 1.58).abs() < 1e-12);
        let same = paired_t_test(&drug1, &drug1).unwrap();
        assert_eq!((same.t, same.p), (0.0, 1.0));
        assert!(paired_t_test(&[1.0], &[2.0]).is_none());
    }

    #[test]
    fn pearson_and_mean() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
        let r = pearson(&[(1.0, 2.0), (2.0, 4.1), (3.0, 5.9), (4.0, 8.0)]).unwrap();
        assert!(r > 0.99 && r <= 1.0);
        assert_eq!(pearson(&[(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)]), None);
    }
}
