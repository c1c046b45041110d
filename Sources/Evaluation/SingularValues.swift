/// The singular values of a square row-major d×d matrix A, in descending order, by one-sided
/// Jacobi (Hestenes): rotate pairs of rows until every two are orthogonal (A ← J·A keeps the
/// singular values); they are then the rows' norms. Each singular value comes out with an error of
/// a few ulps of the largest, where eigenvalues of AᵀA, square-rooted, lose half the digits of
/// the small ones. A rotation costs about 7d multiply–adds, a sweep d(d−1)/2 rotations, and a
/// matrix takes 6–10 sweeps.
func singularValues(_ matrix: [Double], dimension d: Int) -> [Double] {
    precondition(matrix.count == d * d, "a \(d)×\(d) matrix needs \(d * d) elements, got \(matrix.count)")
    var a = matrix
    a.withUnsafeMutableBufferPointer { a in
        for _ in 0..<64 {
            var rotated = false
            for p in 0..<d {
                for q in (p + 1)..<d {
                    var alpha: Double = 0, beta: Double = 0, gamma: Double = 0
                    for k in 0..<d {
                        let x = a[p * d + k], y = a[q * d + k]
                        alpha += x * x
                        beta += y * y
                        gamma += x * y
                    }
                    // Rows orthogonal to working precision are left alone.
                    if gamma == 0 || abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() { continue }
                    rotated = true
                    let zeta = (beta - alpha) / (2 * gamma)
                    let t = (zeta >= 0 ? 1 : -1) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = t * c
                    for k in 0..<d {
                        let x = a[p * d + k], y = a[q * d + k]
                        a[p * d + k] = c * x - s * y
                        a[q * d + k] = s * x + c * y
                    }
                }
            }
            if !rotated { break }
        }
    }
    return (0..<d).map { row in (0..<d).reduce(0) { $0 + a[row * d + $1] * a[row * d + $1] }.squareRoot() }
        .sorted(by: >)
}
